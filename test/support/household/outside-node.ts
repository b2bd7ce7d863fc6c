// The network outside the building of seed 001 (test/interop/household-nat-netns.test.ts): a SIP server for the
// outside domain that peers with the building's gatekeeper, and a phone registered there. Prints {"ready":…}, then
// {"incoming"|"established"|"ended": call} as calls go; takes one JSON command a line on stdin (phone-node-commands.ts).
import { defaultMediaProvider } from '../../../core/phone/default-media.js';
import { Phone } from '../../../core/phone/phone.js';
import { SipLabServer } from '../../../lab/sip-server/sip-lab-server.js';
import { reportCalls, takeCommands } from './phone-node-commands.js';

interface OutsideNodeConfig {
  address: string;
  domain: string;
  building: { domain: string; address: string; port: number };
}

const config = JSON.parse(process.argv[2]!) as OutsideNodeConfig;
const print = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);
const timers = { t1: 100, t2: 400 };
const server = await SipLabServer.start({ address: config.address, udp: 5060, domains: [config.domain], peers: { [config.building.domain]: { address: config.building.address, port: config.building.port, transport: 'udp' } }, timers });
const phone = new Phone({
  accounts: [{ id: 'ext', user: 'ext', server: `sip:${config.address}:5060`, transport: 'udp', domain: config.domain, localAddress: config.address }],
  createSessionDescriptionHandlerFactory: defaultMediaProvider,
  timers,
});
reportCalls(phone, print, 1500);
takeCommands(phone, print);
const registration = await phone.register();
print({ ready: { state: registration.state, contact: registration.contact } });
process.on('SIGTERM', () => {
  void Promise.allSettled([phone.shutdown()]).then(async () => {
    await server.stop();
    process.exit(0);
  });
});
