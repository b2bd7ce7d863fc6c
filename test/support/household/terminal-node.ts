// A household terminal of seed 001 in its own network namespace (test/interop/household-netns.test.ts): a Phone that
// sends its allocation request by broadcast on its link, takes the allotted address on its interface and registers
// its number from there. Prints {"registered":…}, then {"incoming"|"established"|"ended": call} as calls go; takes
// one JSON command a line on stdin (phone-node-commands.ts). On SIGTERM it shuts down (unregister, deletion request)
// and exits.
import { defaultMediaProvider } from '../../../core/phone/default-media.js';
import { allocateHouseholdTerminal } from '../../../core/phone/household-phone.js';
import { Phone } from '../../../core/phone/phone.js';
import { reportCalls, takeCommands } from './phone-node-commands.js';

const { iface, toneHz } = JSON.parse(process.argv[2]!) as { iface: string; toneHz?: number };
const print = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);
const terminal = await allocateHouseholdTerminal({ interface: iface, timing: { initialWaitMs: 300, maxWaitMs: 1200, jitterMs: 100, maxDiscoverRounds: 4 } });
const phone = new Phone({ accounts: [{ id: 'home', ...terminal.account }], createSessionDescriptionHandlerFactory: defaultMediaProvider, lease: terminal.phoneLease, timers: { t1: 100, t2: 400 } });
reportCalls(phone, print, toneHz);
takeCommands(phone, print);
const registration = await phone.register();
print({ registered: { household: terminal.household, state: registration.state, contact: registration.contact } });
process.on('SIGTERM', () => {
  void phone.shutdown().then(
    () => {
      print({ released: terminal.household.address });
      process.exit(0);
    },
    (error: Error) => {
      print({ shutdownFailed: error.message });
      process.exit(1);
    },
  );
});
