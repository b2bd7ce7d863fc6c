import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { createPlainRtpMediaProvider } from '../media/plain-rtp-sdh.js';
import { until } from '../../test/support/until.js';
import type { AccountConfig, CallSnapshot, PhoneEvent } from '../api/phone-types.js';
import { CallLogStore } from '../calllog/call-log-store.js';
import { checkAccountConfig } from './account-config-check.js';
import { Phone } from './phone.js';

/** Phones calling each other through the embedded lab over TLS and WSS, on real loopback sockets (issue 18). */
describe('Phone over TLS and WSS through the embedded lab', () => {
  let dataDir: string;
  let lab: Lab;
  let log: CallLogStore;
  const phones: Phone[] = [];
  const media = createPlainRtpMediaProvider();

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'veilphone-lab-tls-'));
    lab = await Lab.start({ users: { alice: {}, bob: {}, eve: {} }, timers: { t1: 100, t2: 400 }, tls: { dataDir } });
    log = CallLogStore.open(':memory:');
  });
  afterAll(async () => {
    await lab.stop();
    log.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.shutdown()));
  });

  function phone(account: Partial<AccountConfig> & { id: string; user: string }): { phone: Phone; events: PhoneEvent[] } {
    const events: PhoneEvent[] = [];
    const p = new Phone({
      accounts: [{ server: lab.servers.tls!, transport: 'tls', domain: lab.domain, ...account }],
      callLog: log,
      createSessionDescriptionHandlerFactory: media,
      timers: { t1: 100, t2: 400 },
    });
    p.subscribe((e) => events.push(e));
    phones.push(p);
    return { phone: p, events };
  }
  const lastCall = (events: PhoneEvent[], id: string): CallSnapshot | undefined =>
    events.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === id).at(-1)?.call;

  it('the lab made its certificate with openssl on first start, keeps it 0600 in its data dir, and reuses it', async () => {
    const certificate = lab.certificate!;
    expect(certificate.created).toBe(true);
    expect(certificate.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(fs.statSync(path.join(dataDir, 'lab-tls', 'key.pem')).mode & 0o777).toBe(0o600);
    const again = await Lab.start({ udp: 0, tls: { dataDir } });
    try {
      expect(again.certificate).toMatchObject({ created: false, fingerprint: certificate.fingerprint });
      expect(again.servers.tls).toMatch(/^sip:127\.0\.0\.1:\d+;transport=tls$/);
    } finally {
      await again.stop();
    }
  });

  it('calls from a TLS account pinning the lab\'s fingerprint to a WSS account trusting it as a CA file', async () => {
    const alice = phone({ id: 'alice', user: 'alice', tls: { fingerprint: lab.certificate!.fingerprint } });
    const bob = phone({ id: 'bob', user: 'bob', transport: 'wss', server: lab.servers.wss!, tls: { caFile: lab.certificate!.certFile }, answer: { kind: 'auto' } });
    expect((await alice.phone.register()).state).toBe('registered');
    expect((await bob.phone.register()).state).toBe('registered');
    expect(lab.sip.bindings().map((b) => `${b.user}/${b.hop.transport}`).sort()).toEqual(['alice/tls', 'bob/wss']);
    const call = await alice.phone.call({ target: 'bob' });
    await until(() => (lastCall(alice.events, call.id)?.state === 'established' ? true : undefined));
    await alice.phone.hangup(call.id);
    const placed = await until(() => {
      const entry = log.getCall(call.id);
      return entry && entry.messages.some((m) => m.raw.startsWith('SIP/2.0 200 OK') && m.raw.includes('BYE')) ? entry : undefined;
    });
    expect(placed.messages[0]!.raw).toMatch(/^Via: SIP\/2\.0\/TLS /m);
  });

  it('a call between TLS accounts is SRTP by default; the snapshot and the call log say so, with the server\'s fingerprint', async () => {
    const alice = phone({ id: 'alice', user: 'alice', tls: { fingerprint: lab.certificate!.fingerprint } });
    const bob = phone({ id: 'bob', user: 'bob', transport: 'wss', server: lab.servers.wss!, tls: { fingerprint: lab.certificate!.fingerprint }, answer: { kind: 'auto' } });
    await alice.phone.register();
    await bob.phone.register();
    const call = await alice.phone.call({ target: 'bob' });
    await until(() => (alice.phone.mediaOf(call.id)?.stats().packetsReceived ?? 0) > 5 || undefined);
    const established = (await alice.phone.snapshot()).calls.find((c) => c.id === call.id)!;
    expect(established.state).toBe('established');
    expect(alice.phone.mediaOf(call.id)!.srtpStats()).toMatchObject({ rejected: {} });
    expect(established.media!.encryption).toEqual({ kind: 'srtp', suite: 'AES_CM_128_HMAC_SHA1_80' });
    expect(established.signaling).toMatchObject({ transport: 'tls', tls: { version: 'TLSv1.3', peerFingerprint: lab.certificate!.fingerprint } });
    await alice.phone.hangup(call.id);
    const entry = await until(() => {
      const e = log.getCall(call.id);
      return e?.result === 'answered' && e.endedAt !== undefined ? e : undefined;
    });
    expect(entry.mediaEncryption).toBe('srtp AES_CM_128_HMAC_SHA1_80');
    expect(entry.signalingTls).toMatch(new RegExp(`^TLSv1\\.3 \\S+ ${lab.certificate!.fingerprint}$`));
    const invite = entry.messages.find((m) => m.raw.startsWith('INVITE '))!.raw;
    expect(invite).toMatch(/^m=audio \d+ RTP\/SAVP /m);
    expect(invite).toMatch(/^a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:/m);
    expect(invite).toMatch(/^a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:REDACTED/m); // the key is masked in the stored trace (issue 17)
  });

  it('required media encryption toward a phone without SRTP fails with 488 and the reason; mediaEncryption off calls in plain RTP', async () => {
    const alice = phone({ id: 'alice', user: 'alice', tls: { fingerprint: lab.certificate!.fingerprint } });
    const bob = phone({ id: 'bob', user: 'bob', transport: 'udp', server: lab.servers.udp!, answer: { kind: 'auto' } });
    await alice.phone.register();
    await bob.phone.register();
    const refused = await alice.phone.call({ target: 'bob' });
    const ended = await until(() => (lastCall(alice.events, refused.id)?.state === 'terminated' ? lastCall(alice.events, refused.id) : undefined));
    expect(ended!.status).toBe(488);
    await alice.phone.shutdown();
    const plain = phone({ id: 'alice', user: 'alice', tls: { fingerprint: lab.certificate!.fingerprint }, mediaEncryption: 'off' });
    await plain.phone.register();
    const call = await plain.phone.call({ target: 'bob' });
    const established = await until(() => {
      const snapshot = lastCall(plain.events, call.id);
      return snapshot?.state === 'established' && snapshot.media?.remoteRtp !== undefined ? snapshot : undefined;
    });
    expect(established.media!.encryption).toEqual({ kind: 'none' });
    expect(established.signaling).toMatchObject({ transport: 'tls' });
    await plain.phone.hangup(call.id);
  });

  it('an account that does not trust the lab fails TLS_FAILED with clear words, and the lab hears no SIP from it', async () => {
    const before = lab.sip.bindings().length;
    const eve = phone({ id: 'eve', user: 'eve' }); // the system's CA store: the lab's self-signed certificate is unknown to it
    await expect(eve.phone.register()).rejects.toMatchObject({ code: 'TLS_FAILED', message: expect.stringMatching(/certificate of 127\.0\.0\.1 .*is not trusted/) });
    const pinnedWrong = phone({ id: 'eve', user: 'eve', tls: { fingerprint: 'AB:'.repeat(31) + 'AB' } });
    await expect(pinnedWrong.phone.register()).rejects.toMatchObject({ code: 'TLS_FAILED', message: expect.stringContaining('is not the pinned one') });
    const noCaFile = phone({ id: 'eve', user: 'eve', tls: { caFile: path.join(dataDir, 'missing.pem') } });
    await expect(noCaFile.phone.register()).rejects.toMatchObject({ code: 'TLS_FAILED', message: expect.stringContaining('cannot be read') });
    expect(lab.sip.bindings().length).toBe(before);
    expect(lab.sip.bindings().some((b) => b.user === 'eve')).toBe(false);
  });

  it('checks TLS settings: a sips: server needs tls or wss, a fingerprint must be SHA-256', () => {
    const base = { id: 'a', user: 'a', server: 'sips:sip.example.net' };
    expect(() => checkAccountConfig({ ...base, transport: 'udp' })).toThrow(/transport must be tls or wss for a sips: server/);
    expect(checkAccountConfig({ ...base, transport: 'tls', tls: { fingerprint: 'sha256 ' + 'ab'.repeat(32), serverName: 'sip.example.net' } }).tls).toEqual({ fingerprint: 'sha256 ' + 'ab'.repeat(32), serverName: 'sip.example.net' });
    expect(() => checkAccountConfig({ ...base, transport: 'tls', tls: { fingerprint: 'abcd' } })).toThrow(/tls\.fingerprint must be a SHA-256 fingerprint/);
    const plain = { id: 'a', user: 'a', server: 'sip:127.0.0.1' };
    expect(() => checkAccountConfig({ ...plain, transport: 'udp', mediaEncryption: 'required' })).toThrow(/mediaEncryption cannot be required over udp: the SRTP keys would cross the network in the clear/);
    expect(checkAccountConfig({ ...plain, transport: 'udp', mediaEncryption: 'off' }).mediaEncryption).toBe('off');
    expect(checkAccountConfig({ ...plain, transport: 'wss', mediaEncryption: 'preferred' }).mediaEncryption).toBe('preferred');
  });
});
