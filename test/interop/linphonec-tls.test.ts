import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallSnapshot, PhoneEvent } from '../../core/api/phone-types.js';
import { ToneSource } from '../../core/media/audio-frame.js';
import { toneShare } from '../../core/media/tone-detector.js';
import { readWav } from '../../core/media/wav-file.js';
import { defaultMediaProvider } from '../../core/phone/default-media.js';
import { Phone } from '../../core/phone/phone.js';
import { KamailioServer } from '../support/kamailio.js';
import { Linphonec } from '../support/linphonec.js';
import { makeTestPki, type TestPki } from '../support/test-certificates.js';
import { missingRequirements } from '../support/tools.js';
import { until } from '../support/until.js';

const skip = missingRequirements(['linphonec', 'kamailio', 'openssl']);

/**
 * Issue 18, "Real peers": Linphone's console client (Debian linphone-cli, unmodified) registers with Kamailio over TLS,
 * trusting the test CA (`root_ca`, server certificate and name checked), with SRTP (SDES, RFC 4568) mandatory; a
 * Veilphone phone on TLS with the same CA calls it and is called by it. Each side hears the other's tone: the phone by
 * its own tone detector, linphonec in the file it records the call to. A phone that does not trust the CA cannot
 * register: a typed TLS_FAILED error saying the certificate is not trusted, never a registration; nor does a
 * linphonec that trusts another CA (its handshake fails on the certificate).
 */
/** The best share of `hz` in any one-second window of `samples` (8 kHz). */
function loudestShare(samples: Int16Array, hz: number): number {
  let best = 0;
  for (let at = 0; at + 8000 <= samples.length; at += 4000) best = Math.max(best, toneShare(samples.subarray(at, at + 8000), hz));
  return best;
}

describe.skipIf(skip)('linphonec over TLS with SRTP and a Veilphone phone through Kamailio', () => {
  let pki: TestPki;
  let kamailio: KamailioServer;
  let dave: Linphonec;
  let bob: Phone;
  const events: PhoneEvent[] = [];

  beforeAll(async () => {
    pki = await makeTestPki();
    // linphonec's TLS (belle-sip on mbedtls 2.28) matches the host only against dNSName entries when the certificate
    // has a subjectAltName (it logs CN-mismatch for an iPAddress one); Node checks an address against iPAddress: both
    const certificate = await pki.issue(['127.0.0.1', 'DNS:127.0.0.1']);
    kamailio = await KamailioServer.start({ tls: { certFile: certificate.certFile, keyFile: certificate.keyFile } });
    dave = await Linphonec.start('dave', `127.0.0.1:${kamailio.tlsPorts!.tls}`, { transport: 'tls', caFile: pki.caFile, srtp: true, autoAnswer: true, log: true });
    bob = new Phone({
      accounts: [{ id: 'bob', user: 'bob', domain: '127.0.0.1', server: kamailio.servers.tls!, transport: 'tls', tls: { caFile: pki.caFile }, answer: { kind: 'auto' } }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
    });
    bob.subscribe((e) => events.push(e));
    await bob.register();
  }, 60_000);

  afterAll(async () => {
    await bob?.shutdown();
    await dave?.stop();
    await kamailio?.stop();
    await pki?.remove();
  });

  const latest = (id: string): CallSnapshot | undefined => events.flatMap((e) => (e.type === 'call' && e.call.id === id ? [e.call] : [])).at(-1);

  /** bob hears linphonec's 440 Hz tone (SRTP decrypted, then decoded), and sends his own 1000 Hz tone. */
  const talk = async (id: string): Promise<void> => {
    const media = await until(() => bob.mediaOf(id), 10_000);
    media.play(new ToneSource(1000));
    const sent = media.stats().packetsSent;
    await until(() => (media.recent.toneShare(440) > 0.8 ? true : undefined), 15_000).catch((error: Error) => {
      throw new Error(`${error.message}: bob heard ${JSON.stringify(media.stats())}, 440 Hz share ${media.recent.toneShare(440)}\n${dave.child.stdout.slice(-2000)}`);
    });
    // two seconds of the tone (100 packets of 20 ms) have gone out for the far end to hear
    await until(() => media.stats().packetsSent >= sent + 100 || undefined, 15_000);
    const call = latest(id)!;
    expect(call.media?.encryption).toEqual({ kind: 'srtp', suite: expect.stringMatching(/^AES_CM_128_HMAC_SHA1_(80|32)$/) });
    expect(call.signaling).toMatchObject({ transport: 'tls', tls: { version: expect.stringMatching(/^TLSv1\.[23]$/) } });
  };

  it('the phone calls linphonec over TLS: SRTP, each hears the other; linphonec records the phone\'s tone', async () => {
    const placed = await bob.call({ target: 'dave' });
    await until(() => latest(placed.id)?.state === 'established' || undefined, 15_000).catch((error: Error) => {
      throw new Error(`${error.message}: the call is ${JSON.stringify(latest(placed.id))}\n${dave.child.stdout.slice(-2000)}\n--- its log\n${dave.log().slice(-8000)}`);
    });
    await talk(placed.id);
    const mark = dave.mark;
    await bob.hangup(placed.id);
    await dave.waitFor(/ended|terminated/i, mark);
    // linphonec recorded what it decoded (its recorder closes the file with the call): the phone's 1000 Hz tone
    const heard = readWav(dave.heardFile);
    expect(loudestShare(heard.samples, 1000), `${heard.samples.length} samples of ${heard.format}`).toBeGreaterThan(0.8);
  });

  it('linphonec calls the phone over TLS, which answers: SRTP, the phone hears linphonec; linphonec hangs up', async () => {
    dave.send(`call sip:bob@127.0.0.1`);
    const call = await until(() => events.flatMap((e) => (e.type === 'call' && e.call.direction === 'incoming' && e.call.state === 'established' ? [e.call] : []))[0], 15_000);
    await talk(call.id);
    dave.send('terminate');
    await until(() => latest(call.id)?.state === 'terminated' || undefined, 10_000);
    expect(latest(call.id)).toMatchObject({ endedBy: 'remote', status: 200 });
  });

  it('a phone that does not trust the test CA cannot register: TLS_FAILED, the certificate is not trusted', async () => {
    const stranger = new Phone({ accounts: [{ id: 'eve', user: 'eve', domain: '127.0.0.1', server: kamailio.servers.tls!, transport: 'tls' }], createSessionDescriptionHandlerFactory: defaultMediaProvider });
    try {
      await expect(stranger.register()).rejects.toMatchObject({ code: 'TLS_FAILED', message: expect.stringMatching(/certificate of 127\.0\.0\.1 .*is not trusted/) });
    } finally {
      await stranger.shutdown();
    }
  });

  it('linphonec that trusts another CA cannot register: its TLS handshake fails on the certificate', async () => {
    const other = await makeTestPki();
    const stranger = await Linphonec.start('mallory', `127.0.0.1:${kamailio.tlsPorts!.tls}`, { transport: 'tls', caFile: other.caFile, srtp: true, log: true, waitRegistered: false });
    try {
      await until(() => /SSL handshake failed : X509 - Certificate verification failed/.test(stranger.log()) || undefined, 20_000).catch((error: Error) => {
        throw new Error(`${error.message}: linphonec logged\n${stranger.log().slice(-4000)}`);
      });
      expect(await stranger.isRegistered()).toBe(false);
    } finally {
      await stranger.stop();
      await other.remove();
    }
  });
});
