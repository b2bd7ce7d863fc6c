// A room of seed 001 in its own network namespace (test/interop/household-netns.test.ts): the management server on
// loopback and the room's gateway, which takes its first address on the room's link and serves DHCP on port 67 there.
// Prints one JSON line per event: {"ready":…} once serving, {"rooms":…} after every change the management server made.
import { execFileSync } from 'node:child_process';
import { ManagementClient } from '../../../lab/household/management-client.js';
import { ManagementServer } from '../../../lab/household/management-server.js';
import { RoomGateway } from '../../../lab/household/room-gateway.js';

interface RoomNodeConfig {
  room: string;
  size: number;
  pool: { first: string; last: string };
  /** The room's link (a bridge the terminals' veths are on). */
  lan: string;
  file: string;
  /** A building's management server and gatekeeper elsewhere (household-nat-netns.test.ts); else its own, here. */
  management?: string;
  gatekeeper?: { address: string; port: number };
}

const config = JSON.parse(process.argv[2]!) as RoomNodeConfig;
const print = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);
const management = config.management === undefined ? await ManagementServer.start({ pool: config.pool, rooms: { [config.room]: config.size }, file: config.file }) : undefined;
management?.on(() => print({ rooms: management.snapshot().rooms }));
const gateway = await RoomGateway.start({
  room: config.room,
  management: new ManagementClient(config.management ?? management!.url),
  domain: 'household.lab',
  gatekeeper: config.gatekeeper ?? { address: '127.0.0.1', port: 9 },
  dhcpBind: { address: '0.0.0.0', port: 67 },
  subnetMask: '255.255.255.0',
  timers: { t1: 100, t2: 400 },
  // Fig. 9 step 98: the gateway's own first address goes on the room's link
  takeAddress: async (address) => void execFileSync('ip', ['addr', 'add', `${address}/24`, 'dev', config.lan]),
});
print({ ready: { address: gateway.address, sip: gateway.sipEndpoint } });
process.on('SIGTERM', () => {
  void Promise.allSettled([gateway.stop(), management?.stop()]).then(() => process.exit(0));
});
