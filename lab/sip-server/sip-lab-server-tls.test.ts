import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SipIdentity } from '../../core/sip/sip-identity.js';
import type { SipCall } from '../../core/sip/sip-call.js';
import type { SipTransportKind } from '../../core/sip/transport/endpoint.js';
import type { SipTapEntry } from '../../core/sip/transport/message-tap.js';
import { fastTimers, labIdentityOptions } from '../../test/support/lab-identity.js';
import { makeTestPki, type TestCertificate, type TestPki } from '../../test/support/test-certificates.js';
import { SipLabServer } from './sip-lab-server.js';

describe('the lab server over TLS and WSS (RFC 3261 §26.2, RFC 7118 §5)', () => {
  let pki: TestPki;
  let certificate: TestCertificate;
  let lab: SipLabServer;
  const labTrace: SipTapEntry[] = [];
  const identities: SipIdentity[] = [];

  beforeAll(async () => {
    pki = await makeTestPki();
    certificate = await pki.issue(['sip.test', '127.0.0.1']);
    lab = await SipLabServer.start({ udp: 0, tls: 0, wss: 0, credentials: certificate, timers: fastTimers, tap: (e) => labTrace.push(e) });
  });
  afterAll(async () => {
    await lab.stop();
    await pki.remove();
  });
  afterEach(async () => {
    await Promise.all(identities.splice(0).map((i) => i.dispose()));
    labTrace.length = 0;
  });

  async function identity(user: string, transport: SipTransportKind, incoming?: (c: SipCall) => void): Promise<SipIdentity> {
    const id = await SipIdentity.create({
      ...labIdentityOptions(lab, user, transport),
      ...(transport === 'tls' || transport === 'wss' ? { tls: { serverName: 'sip.test', fingerprint: certificate.fingerprint } } : {}),
      ...(incoming ? { onIncomingCall: incoming } : {}),
    });
    identities.push(id);
    return id;
  }

  it.each([
    ['tls', 'tls'],
    ['tls', 'wss'],
    ['wss', 'tls'],
  ] as const)('registers and calls %s → %s; every SIP message with the phones crossed TLS', async (from, to) => {
    const incoming: SipCall[] = [];
    const alice = await identity('alice', from);
    const bob = await identity('bob', to, (c) => {
      incoming.push(c);
      void c.answer();
    });
    expect(alice.tls).toMatchObject({ peerFingerprint: certificate.fingerprint, verifiedBy: 'pin' });
    expect(await alice.register()).toBe(200);
    expect(await bob.register()).toBe(200);
    expect(lab.bindings().map((b) => `${b.user}/${b.hop.transport}`).sort()).toEqual([`alice/${from}`, `bob/${to}`].sort());
    const call = alice.createCall(`sip:bob@127.0.0.1:${lab.ports[from]}`);
    expect(await call.invite()).toBe(200);
    await call.hangup();
    await Promise.all([call.whenEnded(), incoming[0]!.whenEnded()]);
    expect(incoming[0]!.endedBy).toBe('remote');
    // the lab saw the INVITE and the BYE arrive and leave on the secure transports, never on UDP
    const invites = labTrace.filter((e) => /^(INVITE|BYE) /.test(e.raw));
    expect(invites.map((e) => `${e.dir}/${e.transport}`).sort()).toEqual([`in/${from}`, `in/${from}`, `out/${to}`, `out/${to}`].sort());
    const sent = invites.find((e) => e.dir === 'in' && e.raw.startsWith('INVITE'))!;
    expect(sent.raw).toMatch(new RegExp(`^Via: SIP/2.0/${from.toUpperCase()} `, 'm'));
    expect(sent.raw).toMatch(new RegExp(`^Contact: .*;transport=${from === 'wss' ? 'ws' : 'tls'}`, 'm'));
  });

  it('never sends a request for a TLS contact in the clear: with no flow to it, the lab does not reach it at all', async () => {
    const alice = await identity('alice', 'udp');
    await alice.register();
    const call = alice.createCall(`sip:nobody@127.0.0.1:${lab.ports.udp! + 1};transport=tls`);
    const status = await call.invite();
    expect(status).toBeGreaterThanOrEqual(400);
    expect(labTrace.filter((e) => e.dir === 'out' && e.raw.startsWith('INVITE'))).toEqual([]);
  });
});
