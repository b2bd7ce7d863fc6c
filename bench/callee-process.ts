import { defaultMediaProvider } from '../core/phone/default-media.js';
import { Phone } from '../core/phone/phone.js';

/**
 * The callee of the call-setup benchmark in its own process, as SIPp's UAS is: `tsx bench/callee-process.ts USER
 * SERVER_URI` registers USER with auto-answer, prints `ready`, and answers every call until SIGTERM.
 */
const [user, server] = process.argv.slice(2);
if (!user || !server) {
  console.error('usage: callee-process.ts USER SERVER_URI');
  process.exit(2);
}
const phone = new Phone({
  accounts: [{ id: user, user, server, transport: 'udp', domain: '127.0.0.1', answer: { kind: 'auto' } }],
  createSessionDescriptionHandlerFactory: defaultMediaProvider,
});
await phone.register();
console.log('ready');
process.once('SIGTERM', () => {
  void phone.shutdown().finally(() => process.exit(0));
});
