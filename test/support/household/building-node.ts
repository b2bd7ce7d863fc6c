// The building of seed 001 in its own network namespace (test/interop/household-nat-netns.test.ts): the management
// server on the building's private link and the gatekeeper on the public address, hiding the rooms (room-hiding.ts)
// while the kernel's NAT in this namespace carries the terminals' RTP. Prints {"ready":…}; on the line "snapshot" on
// stdin prints {"gatekeeper": snapshot}.
import readline from 'node:readline';
import { Gatekeeper } from '../../../lab/household/gatekeeper.js';
import { ManagementServer } from '../../../lab/household/management-server.js';

interface BuildingNodeConfig {
  building: string;
  rooms: Record<string, number>;
  pool: { first: string; last: string };
  file: string;
  /** The management server's address on the building's private link. */
  managementAddress: string;
  publicAddress: string;
  outside: { domain: string; address: string; port: number };
}

const config = JSON.parse(process.argv[2]!) as BuildingNodeConfig;
const print = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);
const management = await ManagementServer.start({ pool: config.pool, rooms: config.rooms, file: config.file, address: config.managementAddress });
const gatekeeper = await Gatekeeper.start({
  building: config.building,
  domain: 'household.lab',
  database: management.database,
  outside: config.outside,
  address: config.publicAddress,
  sipPort: 5060,
  hideRooms: true,
  timers: { t1: 100, t2: 400 },
});
print({ ready: { management: management.url, gatekeeper: gatekeeper.endpoint } });
readline.createInterface({ input: process.stdin }).on('line', (text) => {
  if (text.trim() === 'snapshot') print({ gatekeeper: gatekeeper.snapshot() });
});
process.on('SIGTERM', () => {
  void Promise.allSettled([gatekeeper.stop(), management.stop()]).then(() => process.exit(0));
});
