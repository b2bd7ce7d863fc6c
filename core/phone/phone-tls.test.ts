import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
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
      createSessionDescriptionHandlerFactory: () => staticSdhFactory(),
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
  });
});
