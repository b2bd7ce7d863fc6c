import { afterEach, describe, expect, it } from 'vitest';
import { parseSipMessage, type SipRequest, type SipResponse } from '../../core/sip/message/index.js';
import type { KeyRing} from '../../core/signing/index.js';
import { generatePoolKeys, VerificationKeys, verifySignatures, viaPeer, type CoverFlag } from '../../core/signing/index.js';
import type { SipCall } from '../../core/sip/sip-call.js';
import { SipIdentity } from '../../core/sip/sip-identity.js';
import type { SipTransportKind } from '../../core/sip/transport/endpoint.js';
import type { SipTapEntry } from '../../core/sip/transport/message-tap.js';
import { fastTimers, labIdentityOptions } from '../../test/support/lab-identity.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { Registrar } from '../sip-server/registrar.js';
import { SipLabServer, type SipLabServerOptions } from '../sip-server/sip-lab-server.js';
import type { ForwardContext } from '../sip-server/sip-proxy.js';
import type { Hop, Inbound } from '../sip-server/server-transports.js';
import type { SignatureAlert } from './failure-monitor.js';
import { HeaderSigning } from './header-signing.js';

const users = { alice: {}, bob: {} };

interface Phone {
  identity: SipIdentity;
  trace: SipTapEntry[];
  incoming: SipCall[];
}

/** Identities and proxies linked through the in-memory network. */
describe('the signing lab proxy (seed 002)', () => {
  const network = new MemoryNetwork();
  const labs: SipLabServer[] = [];
  const identities: SipIdentity[] = [];

  afterEach(async () => {
    await Promise.all(identities.splice(0).map((i) => i.dispose()));
    await Promise.all(labs.splice(0).map((l) => l.stop()));
  });

  async function lab(options: SipLabServerOptions = {}): Promise<SipLabServer> {
    const server = await SipLabServer.start({ users, timers: fastTimers, signing: {}, sockets: network, ...options });
    labs.push(server);
    return server;
  }

  async function phone(server: SipLabServer, user: string, transport: SipTransportKind, answer = true): Promise<Phone> {
    const trace: SipTapEntry[] = [];
    const incoming: SipCall[] = [];
    const identity = await SipIdentity.create({
      ...labIdentityOptions(server, user, transport),
      sockets: network,
      tap: (entry) => trace.push(entry),
      onIncomingCall: (call) => {
        incoming.push(call);
        if (answer) void call.answer();
      },
    });
    identities.push(identity);
    expect(await identity.register()).toBe(200);
    return { identity, trace, incoming };
  }

  const received = (p: Phone, pattern: RegExp): SipTapEntry[] => p.trace.filter((e) => e.dir === 'in' && pattern.test(e.raw));

  it('signs toward the phones, validates what comes back, and lets an honest call through with no false rejection', async () => {
    const server = await lab();
    const alice = await phone(server, 'alice', 'udp');
    const bob = await phone(server, 'bob', 'tcp');
    const call = alice.identity.createCall(`sip:bob@127.0.0.1:${server.ports.udp}`);
    expect(await call.invite()).toBe(200);
    await waitFor(() => received(bob, /^ACK /).length === 1);
    await bob.incoming[0]!.hangup(); // Bob's BYE follows the callee route set, Alice's ACK the caller's
    await Promise.all([call.whenEnded(), bob.incoming[0]!.whenEnded()]);
    expect(call.endedBy).toBe('remote');
    await waitFor(() => received(bob, /^SIP\/2\.0 200 [\s\S]*CSeq: \d+ BYE/).length === 1); // Alice's 200 passed the proxy

    // What each phone saw, checked with the proxy's keys (Bob's transport is TCP, Alice's UDP: a double Record-Route).
    const keys = new VerificationKeys([server.signing!.exportKeys()]);
    const invite = received(bob, /^INVITE /)[0]!;
    const atBob = verifySignatures(parseSipMessage(invite.raw), { keys, peer: viaPeer('tcp', '127.0.0.1', bob.identity.local.port) });
    expect(atBob.map((s) => [s.kind, s.header, s.index, s.verdict])).toEqual([
      ['via', 'Via', 0, 'valid'],
      ['record-route', 'Record-Route', 0, 'valid'],
      ['route-set-callee', 'Record-Route', 0, 'valid'],
    ]);
    const ok = received(alice, /^SIP\/2\.0 200 [\s\S]*CSeq: \d+ INVITE/)[0]!;
    const atAlice = verifySignatures(parseSipMessage(ok.raw), { keys });
    // ¶[0055]: the proxy checked Bob's Record-Route signature and took it out; only the caller's route set is signed
    expect(atAlice.map((s) => [s.kind, s.header, s.index, s.verdict])).toEqual([
      ['route-set-caller', 'Record-Route', 1, 'valid'], // the entry facing Alice, the bottom one of the two
    ]);
    const bobsOk = bob.trace.find((e) => e.dir === 'out' && /^SIP\/2\.0 200 [\s\S]*CSeq: \d+ INVITE/.test(e.raw))!;
    expect(verifySignatures(parseSipMessage(bobsOk.raw), { keys }).map((s) => s.kind)).toContain('record-route'); // Bob echoed it
    expect(ok.raw).not.toMatch(/^Record-Route:.*vp-sig=/im);
    const byeAtAlice = received(alice, /^BYE /)[0]!;
    expect(verifySignatures(parseSipMessage(byeAtAlice.raw), { keys, peer: viaPeer('udp', '127.0.0.1', alice.identity.local.port) }).map((s) => [s.kind, s.verdict])).toEqual([['via', 'valid']]);

    const snapshot = server.snapshot().signing!;
    expect(snapshot.failures.total).toBe(0);
    expect(snapshot.signed).toMatchObject({ 'record-route': 1, 'route-set-callee': 1 });
    expect(snapshot.signed.via).toBeGreaterThanOrEqual(2);
    expect(snapshot.signed['route-set-caller']).toBeGreaterThanOrEqual(1);
    expect(snapshot.verified.via).toBeGreaterThanOrEqual(2); // Bob's 200 (he answers at once: no 100, no 180), Alice's 200 to the BYE
    expect(snapshot.verified['record-route']).toBeGreaterThanOrEqual(1);
    expect(snapshot.recordRouteRemoved).toBe(snapshot.verified['record-route']);
    expect(snapshot.verified['route-set']).toBe(2); // Alice's ACK, Bob's BYE
    // every signature came back over the very texts the proxy signed: each was recognised, no MAC computed
    expect(snapshot.recognised).toBe(snapshot.verified.via + snapshot.verified['record-route'] + snapshot.verified['route-set']);
    // what the signing cost: every message of the call passed the hooks once in and once out (ACK and CANCEL aside)
    expect(snapshot.work.messages).toBeGreaterThanOrEqual(10);
    expect(snapshot.work.micros).toBeGreaterThan(0);
  });

  it.each([
    ['tcp', 'ws'],
    ['ws', 'udp'],
    ['ws', 'tcp'],
  ] as const)('works over every transport: %s → %s, both route sets used, nothing refused', async (from, to) => {
    const server = await lab();
    const alice = await phone(server, 'alice', from);
    const bob = await phone(server, 'bob', to);
    const call = alice.identity.createCall(`sip:bob@127.0.0.1:${server.ports[from]}`);
    expect(await call.invite()).toBe(200);
    await waitFor(() => received(bob, /^ACK /).length === 1);
    expect(await call.hold(true)).toBe(200); // a re-INVITE: its response repeats the Record-Routes, which is not a forgery
    await bob.incoming[0]!.hangup();
    await call.whenEnded();
    const keys = new VerificationKeys([server.signing!.exportKeys()]);
    const invite = parseSipMessage(received(bob, /^INVITE /)[0]!.raw);
    expect(verifySignatures(invite, { keys, peer: viaPeer(to, '127.0.0.1', Number(received(bob, /^INVITE /)[0]!.local.split(':').pop())) }).map((s) => s.verdict)).toEqual(['valid', 'valid', 'valid']);
    const snapshot = server.snapshot().signing!;
    expect(snapshot.failures.total).toBe(0);
    expect(snapshot.verified['route-set']).toBeGreaterThanOrEqual(3); // ACK and re-INVITE from Alice, BYE from Bob
  });

  // helper 74: a busy callee's 486 (and any refusal) was followed by the caller's ACK, whose Route, unsigned as the
  // INVITE's, was taken for an in-dialog request's: dropped as SIGNATURE_MISSING, the 486 retransmitted, an alert raised
  it.each([486, 404, 480])('absorbs the ACK of a %i: nothing refused, the refusal not retransmitted', async (status) => {
    const server = await lab();
    const alice = await phone(server, 'alice', 'udp');
    const bob = await phone(server, 'bob', 'udp', false);
    const call = alice.identity.createCall(`sip:bob@127.0.0.1:${server.ports.udp}`);
    const answered = call.invite();
    await waitFor(() => bob.incoming.length === 1);
    await bob.incoming[0]!.hangup(status);
    expect(await answered).toBe(status);
    await new Promise((resolve) => setTimeout(resolve, 8 * fastTimers.t1)); // Timer G would have resent it by now
    expect(server.snapshot().signing!.failures.total).toBe(0);
    expect(received(alice, new RegExp(`^SIP/2\\.0 ${status} `))).toHaveLength(1);
  });

  it('signs nothing toward, and checks nothing from, a trusted link', async () => {
    const server = await lab({ signing: { trusted: [{ address: '127.0.0.1' }] } });
    const alice = await phone(server, 'alice', 'udp');
    const bob = await phone(server, 'bob', 'udp');
    const call = alice.identity.createCall(`sip:bob@127.0.0.1:${server.ports.udp}`);
    expect(await call.invite()).toBe(200);
    await call.hangup();
    await bob.incoming[0]!.whenEnded();
    expect([...alice.trace, ...bob.trace].some((e) => /vp-/.test(e.raw))).toBe(false);
    expect(server.snapshot().signing).toMatchObject({ signed: { via: 0, 'record-route': 0 }, verified: { via: 0, 'route-set': 0 }, failures: { total: 0 } });
  });

  it('tamper via: forged Vias in Bob\'s responses are dropped, so the call never comes up', async () => {
    const server = await lab({ tamper: 'via' });
    const alice = await phone(server, 'alice', 'udp');
    const bob = await phone(server, 'bob', 'udp');
    const call = alice.identity.createCall(`sip:bob@127.0.0.1:${server.ports.udp}`);
    void call.invite();
    await waitFor(() => (server.snapshot().signing!.failures.byFamily.via ?? 0) >= 2); // 180 and 200 at least
    expect(call.state).toBe('calling');
    expect(received(alice, /^SIP\/2\.0 (180|200)[\s\S]*CSeq: \d+ INVITE/)).toHaveLength(0);
    expect(bob.incoming).toHaveLength(1);
    const failures = server.snapshot().signing!.failures;
    expect(failures.byVerdict.invalid).toBe(failures.total);
    expect(failures.recent[0]).toMatchObject({ family: 'via', kind: 'via', verdict: 'invalid', from: `udp:127.0.0.1:${bob.identity.local.port}` });
    expect(server.snapshot().counters.dropped.SIGNATURE_INVALID).toBe(failures.total);
  });

  it('tamper record_route: a detour added to the Record-Route set is caught in the response', async () => {
    const server = await lab({ tamper: 'record_route' });
    const alice = await phone(server, 'alice', 'udp');
    await phone(server, 'bob', 'udp');
    const call = alice.identity.createCall(`sip:bob@127.0.0.1:${server.ports.udp}`);
    void call.invite();
    await waitFor(() => server.snapshot().signing!.failures.byFamily['record-route'] >= 1);
    expect(call.state).not.toBe('established');
    expect(server.snapshot().signing!.failures.recent[0]).toMatchObject({ family: 'record-route', verdict: 'invalid' });
    expect(received(alice, /127\.0\.0\.1:9/)).toHaveLength(0);
  });

  it('tamper route_set: an in-dialog request whose route was extended is dropped and never reaches the other side', async () => {
    const server = await lab({ tamper: 'route_set' });
    const alice = await phone(server, 'alice', 'udp');
    const bob = await phone(server, 'bob', 'udp');
    const call = alice.identity.createCall(`sip:bob@127.0.0.1:${server.ports.udp}`);
    expect(await call.invite()).toBe(200); // setup itself carries no route set
    await waitFor(() => server.snapshot().signing!.failures.byFamily['route-set'] >= 1);
    expect(server.snapshot().signing!.failures.recent[0]).toMatchObject({ family: 'route-set', kind: 'route-set-caller', verdict: 'invalid', message: expect.stringMatching(/^ACK /) });
    await new Promise((r) => setTimeout(r, 300));
    expect(received(bob, /^ACK /)).toHaveLength(0);
  });

  it('tamper replay: a route set from an earlier dialog does not verify in a later one', async () => {
    const server = await lab({ tamper: 'replay' });
    const alice = await phone(server, 'alice', 'udp');
    const bob = await phone(server, 'bob', 'udp');
    const first = alice.identity.createCall(`sip:bob@127.0.0.1:${server.ports.udp}`);
    expect(await first.invite()).toBe(200);
    await first.hangup();
    await bob.incoming[0]!.whenEnded();
    expect(server.snapshot().signing!.failures.total).toBe(0); // the first dialog is honest

    const second = alice.identity.createCall(`sip:bob@127.0.0.1:${server.ports.udp}`);
    expect(await second.invite()).toBe(200);
    await waitFor(() => server.snapshot().signing!.failures.byFamily['route-set'] >= 1);
    expect(server.snapshot().signing!.failures.recent[0]).toMatchObject({ kind: 'route-set-caller', verdict: 'invalid' });
    expect(received(bob, /^ACK /).filter((e) => e.raw.includes(second.callId))).toHaveLength(0);
  });

  it('counts failures per second and raises an alert above the threshold (¶[0026])', async () => {
    const server = await lab({ signing: { threshold: 3 } });
    const alerts: SignatureAlert[] = [];
    server.signing!.onAlert((a) => alerts.push(a));
    const socket = await network.bindUdp({ address: '127.0.0.1', port: 0 });
    const port = socket.local.port;
    // In-dialog BYEs routed through the proxy's own entry, with no route-set signature: forged.
    for (let i = 0; i < 6; i++) {
      const bye = [
        `BYE sip:bob@127.0.0.1:9 SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKforged${i}`,
        `Route: <sip:127.0.0.1:${server.ports.udp};transport=udp;lr>`,
        `From: <sip:mallory@127.0.0.1>;tag=f${i}`,
        `To: <sip:bob@127.0.0.1>;tag=t${i}`,
        `Call-ID: forged-${i}`,
        `CSeq: 1 BYE`,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      await socket.send(bye, { address: '127.0.0.1', port: server.ports.udp! });
    }
    await waitFor(() => server.snapshot().signing!.failures.total === 6);
    await socket.close();
    const failures = server.snapshot().signing!.failures;
    expect(failures.byVerdict).toEqual({ missing: 6 });
    expect(alerts).toHaveLength(1); // raised once while the rate stays high
    expect(alerts[0]).toMatchObject({ threshold: 3, perSecond: 4, last: { family: 'route-set', verdict: 'missing' } });
    expect(failures.alerts).toHaveLength(1);
    expect(failures.peakPerSecond).toBeGreaterThanOrEqual(4);
    expect(server.snapshot().counters.forwarded).toBe(0); // nothing went to the victim
  });

  it('a pool: the INVITE passes proxy A, the in-dialog BYE passes proxy B, which verifies with the sealed key', async () => {
    const keys = generatePoolKeys();
    const registrar = new Registrar({ users: new Map(Object.entries(users)) });
    const pool = { name: 'pool.veilphone.lab', keys };
    const a = await lab({ pool, registrar, udp: 0 });
    const b = await lab({ pool, registrar, udp: 0 });
    const alice = await phone(a, 'alice', 'udp');
    const bob = await phone(b, 'bob', 'udp');
    const call = alice.identity.createCall(`sip:bob@127.0.0.1:${a.ports.udp}`);
    expect(await call.invite()).toBe(200);
    const invite = received(bob, /^INVITE /)[0]!.raw;
    expect(invite).toMatch(/Record-Route: <sip:pool\.veilphone\.lab;transport=udp;lr;vp-rs=1\.rse\.[\w-]+\.hs128\.cg\.[\w-]{22};vp-key=[\w-]{200,}>/);
    await waitFor(() => received(bob, /^ACK /).length === 1);
    await bob.incoming[0]!.hangup();
    await call.whenEnded();
    expect(call.endedBy).toBe('remote');
    const byeOut = bob.trace.find((e) => e.dir === 'out' && e.raw.startsWith('BYE '))!;
    expect(byeOut.remote).toBe(`127.0.0.1:${b.ports.udp}`); // Bob's BYE went to B, not A
    const atB = b.snapshot().signing!;
    expect(atB).toMatchObject({ verified: { 'route-set': 1 }, failures: { total: 0 }, pool: { suite: 'x25519-ed25519', sealedKeysOpened: 1 } });
    expect(a.snapshot().signing!.failures.total).toBe(0);
    expect(a.snapshot().signing!.verified['route-set']).toBe(1); // Alice's ACK came back to A
  });

  it('a pool member purges the sealed keys it opened for a dialog once the dialog ends (¶[0083] step 1044)', async () => {
    const keys = generatePoolKeys();
    const registrar = new Registrar({ users: new Map(Object.entries(users)) });
    const pool = { name: 'pool.veilphone.lab', keys };
    const a = await lab({ pool, registrar, udp: 0 });
    const b = await lab({ pool, registrar, udp: 0 });
    const alice = await phone(a, 'alice', 'udp');
    const bob = await phone(b, 'bob', 'udp');
    const held = (): { sealedKeysOpened: number; sealedKeysHeld: number; sealedKeysPurged: number } => b.snapshot().signing!.pool!;
    for (let round = 1; round <= 2; round++) {
      const call = alice.identity.createCall(`sip:bob@127.0.0.1:${a.ports.udp}`);
      expect(await call.invite()).toBe(200);
      await waitFor(() => received(bob, /^ACK /).length === round);
      const incoming = bob.incoming[round - 1]!;
      // a re-INVITE from Bob through B: the key is opened (once) and kept while the dialog lasts
      expect(await incoming.hold(true)).toBe(200);
      expect(held()).toMatchObject({ sealedKeysOpened: round, sealedKeysHeld: 1, sealedKeysPurged: round - 1 });
      await incoming.hangup(); // Bob's BYE through B, its 200 back through B: the dialog is over
      await call.whenEnded();
      await waitFor(() => held().sealedKeysHeld === 0);
      expect(held()).toMatchObject({ sealedKeysOpened: round, sealedKeysPurged: round });
    }
    expect(b.snapshot().signing!.failures.total).toBe(0);
    expect(b.snapshot().signing!.verified['route-set']).toBe(6); // per call Bob's re-INVITE, its ACK and his BYE
  });

  it('a proxy outside the pool cannot check the pool\'s route sets and drops the BYE', async () => {
    const registrar = new Registrar({ users: new Map(Object.entries(users)) });
    const a = await lab({ pool: { name: 'pool.veilphone.lab', keys: generatePoolKeys() }, registrar, udp: 0 });
    const b = await lab({ pool: { name: 'pool.veilphone.lab', keys: generatePoolKeys() }, registrar, udp: 0 });
    const alice = await phone(a, 'alice', 'udp');
    const bob = await phone(b, 'bob', 'udp');
    const call = alice.identity.createCall(`sip:bob@127.0.0.1:${a.ports.udp}`);
    expect(await call.invite()).toBe(200);
    await waitFor(() => received(bob, /^ACK /).length === 1);
    void bob.incoming[0]!.hangup();
    await waitFor(() => b.snapshot().signing!.failures.total >= 1);
    expect(b.snapshot().signing!.failures.recent[0]).toMatchObject({ family: 'route-set', verdict: 'invalid', note: expect.stringMatching(/pool signature does not verify/) });
    expect(received(alice, /^BYE /)).toHaveLength(0);
  });

  it('expires route-set keys after their window: a late in-dialog request is refused as expired', async () => {
    let now = Date.now();
    const server = await lab({ signing: { now: () => now } });
    const alice = await phone(server, 'alice', 'udp');
    const bob = await phone(server, 'bob', 'udp');
    const call = alice.identity.createCall(`sip:bob@127.0.0.1:${server.ports.udp}`);
    expect(await call.invite()).toBe(200);
    await waitFor(() => received(bob, /^ACK /).length === 1);
    const ring: KeyRing = server.signing!.ring;
    now += ring.lifetime('route-set') + 1;
    void bob.incoming[0]!.hangup();
    await waitFor(() => server.snapshot().signing!.failures.total >= 1);
    expect(server.snapshot().signing!.failures.recent[0]).toMatchObject({ family: 'route-set', kind: 'route-set-callee', verdict: 'expired' });
  });

  it('refuses a response signed with a Via key that has since expired, though the proxy remembers signing it', async () => {
    let now = Date.now();
    const server = await lab({ signing: { now: () => now } });
    const alice = await phone(server, 'alice', 'udp');
    const bob = await phone(server, 'bob', 'udp', false);
    const call = alice.identity.createCall(`sip:bob@127.0.0.1:${server.ports.udp}`);
    void call.invite();
    await waitFor(() => bob.incoming.length === 1);
    now += server.signing!.ring.lifetime('via') + 1;
    void bob.incoming[0]!.answer();
    await waitFor(() => server.snapshot().signing!.failures.total >= 1);
    expect(server.snapshot().signing!.failures.recent[0]).toMatchObject({ family: 'via', kind: 'via', verdict: 'expired' });
    expect(call.state).not.toBe('established');
  });
});

async function waitFor(predicate: () => boolean, timeoutMs = 8000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the signing hooks on hand-made messages', () => {
  const hop = (port: number) => ({ transport: 'udp', local: { address: '127.0.0.1', port: 5060 }, remote: { address: '127.0.0.1', port } }) as unknown as Hop;
  function signedInvite(proxyVia = 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKproxy1', options: { viaFlags?: CoverFlag[]; recordRoutes?: number } = {}): { signing: HeaderSigning; invite: SipRequest } {
    const signing = new HeaderSigning(options.viaFlags ? { viaFlags: options.viaFlags } : {});
    signing.attach({ isOurs: (uri) => uri.host === '127.0.0.1' && uri.port === 5060, isOurVia: (host, port) => host === '127.0.0.1' && port === 5060 });
    const invite = parseSipMessage(
      [
        'INVITE sip:bob@127.0.0.1:5062 SIP/2.0',
        `Via: ${proxyVia}`,
        'Via: SIP/2.0/UDP 127.0.0.1:5070;rport=5070;branch=z9hG4bKalice1',
        'Record-Route: <sip:127.0.0.1:5060;lr>',
        'To: <sip:bob@127.0.0.1:5060>',
        'From: "alice" <sip:alice@127.0.0.1:5060>;tag=a1',
        'Call-ID: c1',
        'CSeq: 1 INVITE',
        'Contact: <sip:alice@127.0.0.1:5070>',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    ) as SipRequest;
    signing.onSendRequest(invite, { inbound: hop(5070), outbound: hop(5062), original: invite, recordRoutes: options.recordRoutes ?? 1 } as ForwardContext);
    return { signing, invite };
  }
  /** Bob's 200 to the signed INVITE, its Record-Route set as `recordRoutes` gives it. */
  function answer(invite: SipRequest, recordRoutes: (entries: string[]) => string[] = (entries) => entries): SipResponse {
    const lines = invite.toString().split('\r\n');
    const keep = lines.filter((line) => /^(Via|From|Call-ID|CSeq):/.test(line));
    const entries = invite.getAll('record-route');
    return parseSipMessage(
      ['SIP/2.0 200 OK', ...keep, 'To: <sip:bob@127.0.0.1:5060>;tag=b1', ...recordRoutes(entries).map((e) => `Record-Route: ${e}`), 'Contact: <sip:bob@127.0.0.1:5062>', 'Content-Length: 0', '', ''].join('\r\n'),
    ) as SipResponse;
  }

  it('recognises its own Record-Route signature and cuts it off as it was appended', () => {
    const { signing, invite } = signedInvite();
    const ok = answer(invite);
    expect(signing.onReceive({ message: ok, hop: hop(5062) } as Inbound)).toBeUndefined();
    expect(ok.getAll('record-route')).toEqual([invite.getAll('record-route')[0]!.replace(/;vp-sig=[^;]+$/, '')]);
    expect(signing.snapshot()).toMatchObject({ recognised: 2, recordRouteRemoved: 1 });
  });

  it('knows a response to a request it record-routed by its own Via signature, when the branch does not tell', () => {
    // no branch to look up: only the signature's `r` flag says the Record-Route set is this proxy's to check (¶[0050])
    for (const viaFlags of [undefined, ['c'] as CoverFlag[]]) {
      const { signing, invite } = signedInvite('SIP/2.0/UDP 127.0.0.1:5060', viaFlags ? { viaFlags } : {});
      const detour = answer(invite, (entries) => [...entries, '<sip:192.0.2.66;lr>']);
      expect(signing.onReceive({ message: detour, hop: hop(5062) } as Inbound)).toBe('SIGNATURE_INVALID');
      expect(signing.snapshot()).toMatchObject({ recognised: 1, failures: { byFamily: { 'record-route': 1 } } });
    }
    const again = signedInvite('SIP/2.0/UDP 127.0.0.1:5060');
    const honest = answer(again.invite);
    expect(again.signing.onReceive({ message: honest, hop: hop(5062) } as Inbound)).toBeUndefined();
    expect(again.signing.snapshot()).toMatchObject({ recognised: 2, recordRouteRemoved: 1 });
  });

  it('takes a Record-Route set a user agent echoes in a response to a request it did not record-route as no dialog of its own', () => {
    // the INVITE went out signed but not record-routed (no `r`); the 2xx brings a Record-Route of ours back anyway
    const { signing, invite } = signedInvite('SIP/2.0/UDP 127.0.0.1:5060', { recordRoutes: 0 });
    expect(invite.toString()).not.toMatch(/vp-sig=1\.via\.[^.]+\.hs128\.[a-z]*r/);
    const echoed = answer(invite, () => ['<sip:127.0.0.1:5060;lr>;vp-sig=1.rr.AAAAAAAA.hs128.c.AAAAAAAAAAAAAAAAAAAAAA']);
    expect(signing.onReceive({ message: echoed, hop: hop(5062) } as Inbound)).toBeUndefined();
    expect(signing.snapshot()).toMatchObject({ recognised: 1, recordRouteRemoved: 1 });
    expect(echoed.getAll('record-route')).toEqual(['<sip:127.0.0.1:5060;lr>']);
  });

  it('refuses Via cover flags a Via signature cannot carry, and `r`, which is its own to add', () => {
    expect(() => new HeaderSigning({ viaFlags: ['c', 'g'] })).toThrow(/cover "g"/);
    expect(() => new HeaderSigning({ viaFlags: ['r'] })).toThrow(/cover "r"/);
    expect(() => new HeaderSigning({ viaFlags: ['c', 'f', 'p', 's', 't'] })).not.toThrow();
  });

  it('refuses a 2xx with an entry above its own that does not parse, recognised signature or not, as the full check does', () => {
    const { signing, invite } = signedInvite();
    const ok = answer(invite, (entries) => ['<urn:foo:bar>', ...entries]);
    expect(signing.onReceive({ message: ok, hop: hop(5062) } as Inbound)).toBe('SIGNATURE_INVALID');
  });

  it('judges an entry of its own with a forged signature above the real one first, as the full check does', () => {
    const { signing, invite } = signedInvite();
    const forged = answer(invite, (entries) => ['<sip:127.0.0.1:5060;lr>;vp-sig=1.rr.AAAAAAAA.hs128.c.AAAAAAAAAAAAAAAAAAAAAA', ...entries]);
    expect(signing.onReceive({ message: forged, hop: hop(5062) } as Inbound)).toMatch(/^SIGNATURE_/);
    expect(signing.snapshot().failures.byFamily['record-route']).toBe(1);
  });
});
