import type { AccountConfig } from '../core/api/phone-types.js';
import { defaultMediaProvider } from '../core/phone/default-media.js';
import { Phone } from '../core/phone/phone.js';

/**
 * The callee of the call-setup benchmarks in its own process, as SIPp's UAS is: `tsx bench/callee-process.ts USER
 * SERVER_URI [TRANSPORT [FINGERPRINT [MEDIA_ENCRYPTION]]]` registers USER with auto-answer (over UDP unless told;
 * over TLS trusting the lab certificate with that SHA-256 fingerprint), prints `ready`, and answers every call until
 * SIGTERM.
 */
const [user, server, transport = 'udp', fingerprint, mediaEncryption] = process.argv.slice(2);
if (!user || !server) {
  console.error('usage: callee-process.ts USER SERVER_URI [TRANSPORT [FINGERPRINT [MEDIA_ENCRYPTION]]]');
  process.exit(2);
}
const account: AccountConfig = { id: user, user, server, transport: transport as AccountConfig['transport'], domain: '127.0.0.1', answer: { kind: 'auto' } };
if (fingerprint) account.tls = { fingerprint };
if (mediaEncryption) account.mediaEncryption = mediaEncryption as NonNullable<AccountConfig['mediaEncryption']>;
const phone = new Phone({ accounts: [account], createSessionDescriptionHandlerFactory: defaultMediaProvider });
await phone.register();
console.log('ready');
process.once('SIGTERM', () => {
  void phone.shutdown().finally(() => process.exit(0));
});
