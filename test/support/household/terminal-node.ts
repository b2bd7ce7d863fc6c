// A household terminal of seed 001 in its own network namespace (test/interop/household-netns.test.ts): a Phone that
// sends its allocation request by broadcast on its link, takes the allotted address on its interface and registers
// its number from there. Prints {"registered":…}, then {"incoming"|"established"|"ended": call} as calls go; takes
// one JSON command a line on stdin: {"call": TARGET}, {"answer": CALL_ID}, {"hangup": CALL_ID}. On SIGTERM it shuts
// down (unregister, deletion request) and exits.
import readline from 'node:readline';
import { defaultMediaProvider } from '../../../core/phone/default-media.js';
import { allocateHouseholdTerminal } from '../../../core/phone/household-phone.js';
import { Phone } from '../../../core/phone/phone.js';

const { iface } = JSON.parse(process.argv[2]!) as { iface: string };
const print = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);
const terminal = await allocateHouseholdTerminal({ interface: iface, timing: { initialWaitMs: 300, maxWaitMs: 1200, jitterMs: 100, maxDiscoverRounds: 4 } });
const phone = new Phone({ accounts: [{ id: 'home', ...terminal.account }], createSessionDescriptionHandlerFactory: defaultMediaProvider, lease: terminal.phoneLease, timers: { t1: 100, t2: 400 } });
const seen = new Map<string, string>();
phone.subscribe((event) => {
  if (event.type !== 'call' && event.type !== 'incoming') return;
  const call = event.call;
  const summary = { id: call.id, direction: call.direction, remote: call.remote.user, status: call.status, rang: call.rang, answeredElsewhere: call.answeredElsewhere };
  const kind = event.type === 'incoming' ? 'incoming' : call.state === 'established' ? 'established' : call.state === 'terminated' ? 'ended' : undefined;
  if (kind === undefined || seen.get(call.id) === kind) return;
  seen.set(call.id, kind);
  print({ [kind]: summary });
});
readline.createInterface({ input: process.stdin }).on('line', (text) => {
  let command: { call?: string; answer?: string; hangup?: string };
  try {
    command = JSON.parse(text) as typeof command;
  } catch (error) {
    print({ badCommand: (error as Error).message });
    return;
  }
  const done = (what: Promise<unknown>): void => void what.then((value) => print({ done: command, value }), (error: Error) => print({ commandFailed: error.message }));
  if (command.call !== undefined) done(phone.call({ target: command.call }).then((c) => c.id));
  else if (command.answer !== undefined) done(phone.answer(command.answer));
  else if (command.hangup !== undefined) done(phone.hangup(command.hangup));
});
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
