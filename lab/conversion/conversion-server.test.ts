import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallSnapshot, PhoneEvent } from '../../core/api/phone-types.js';
import { Phone } from '../../core/phone/phone.js';
import { findIdentityLeaks } from '../../core/privacy/identity-leaks.js';
import { rawCallId } from '../../core/phone/trace-router.js';
import { parseSipMessage, type SipResponse } from '../../core/sip/message/index.js';
import type { SipTapEntry } from '../../core/sip/transport/message-tap.js';
import type { SipDatagramSocket } from '../../core/sip/transport/sip-sockets.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { Lab } from '../lab.js';
import type { ConversionServerOptions } from './conversion-server.js';
import { until } from '../../test/support/until.js';

const timers = { t1: 100, t2: 400 };


interface Agent {
  phone: Phone;
  events: PhoneEvent[];
  trace: SipTapEntry[];
}

/** Phones and labs linked through the in-memory network. */
describe('the message conversion server (seed 000) in the lab', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  const network = new MemoryNetwork();

  /** A bare UDP socket (closed after the test) and the final responses it receives. */
  async function rawPeer(): Promise<{ socket: SipDatagramSocket; replies: SipResponse[] }> {
    const socket = await network.bindUdp({ address: '127.0.0.1', port: 0 });
    cleanup.push(() => socket.close());
    const replies: SipResponse[] = [];
    socket.onMessage = (data) => {
      const m = parseSipMessage(data);
      if (m.kind === 'response' && m.status >= 200) replies.push(m);
    };
    return { socket, replies };
  }
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function lab(domain: string, conversion: Partial<ConversionServerOptions> | false, users?: Record<string, { password?: string }>): Promise<Lab> {
    const started = await Lab.start({
      domains: [domain],
      timers,
      sockets: network,
      conversion: conversion === false ? false : { placement: 'caller-server', lingerMs: 200, ...conversion },
      ...(users ? { users, auth: true } : {}),
    });
    cleanup.push(() => started.stop());
    return started;
  }

  function agent(user: string, home: Lab, domain: string, display?: string, password?: string): Agent {
    const events: PhoneEvent[] = [];
    const trace: SipTapEntry[] = [];
    const phone = new Phone({
      accounts: [{ id: user, user, server: home.servers.udp!, transport: 'udp', domain, answer: { kind: 'auto' }, ...(display ? { displayName: display } : {}), ...(password ? { password } : {}) }],
      createSessionDescriptionHandlerFactory: () => staticSdhFactory(),
      timers,
      sockets: network,
      onTrace: (_account, entry) => trace.push(entry),
    });
    phone.subscribe((e) => events.push(e));
    cleanup.push(() => phone.shutdown());
    return { phone, events, trace };
  }

  const last = (a: Agent, id: string): CallSnapshot | undefined => a.events.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === id).at(-1)?.call;
  const incoming = (a: Agent): CallSnapshot | undefined => (a.events.find((e) => e.type === 'incoming') as Extract<PhoneEvent, { type: 'incoming' }> | undefined)?.call;

  /** What the callee received in this call, checked for every trace of the caller. */
  function leaks(callee: Agent, sipCallId: string, fingerprint: Parameters<typeof findIdentityLeaks>[1]): string[] {
    return callee.trace.filter((e) => e.dir === 'in' && rawCallId(e.raw) === sipCallId).flatMap((e) => findIdentityLeaks(e.raw, fingerprint).map((l) => `${e.raw.split(' ')[0]} ${l.where}: ${l.found}`));
  }

  async function callAndHangUp(caller: Agent, callee: Agent, target: string, hangupBy: 'caller' | 'callee', anonymity?: 'header'): Promise<{ callerLeg: CallSnapshot; calleeLeg: CallSnapshot }> {
    const placed = await caller.phone.call({ target, ...(anonymity ? { anonymity } : {}) });
    await until(() => last(caller, placed.id)?.state === 'established');
    const leg = await until(() => incoming(callee));
    await until(() => last(callee, leg.id)?.state === 'established');
    if (hangupBy === 'caller') await caller.phone.hangup(placed.id);
    else await callee.phone.hangup(leg.id);
    await until(() => last(caller, placed.id)?.state === 'terminated' && last(callee, leg.id)?.state === 'terminated');
    return { callerLeg: last(caller, placed.id)!, calleeLeg: last(callee, leg.id)! };
  }

  it.each([
    ['the 184 prefix', '184bob', undefined],
    ['the anonymity header', 'bob', 'header' as const],
  ])('Embodiment 2 (caller\'s server), triggered by %s: the callee sees AnonymousN, BYE works both ways, the tables hold then free the mapping', async (_trigger, target, anonymity) => {
    const home = await lab('home.lab', {});
    const alice = agent('alice', home, 'home.lab', 'Alice Liddell');
    const bob = agent('bob', home, 'home.lab');
    await alice.phone.register();
    await bob.phone.register();
    const placed = await alice.phone.call({ target, ...(anonymity ? { anonymity } : {}) });
    const leg = await until(() => incoming(bob));
    await until(() => last(bob, leg.id)?.state === 'established');
    expect(leg.remote).toMatchObject({ anonymous: true, shown: 'Anonymous', user: expect.stringMatching(/^Anonymous([1-9]\d?|100)$/) });
    const name = leg.remote.user!;
    const records = home.sip.conversion!.records();
    expect(records).toMatchObject([{ anonymousUser: name, realUser: 'alice@home.lab', realCallId: placed.sipCallId, ending: false }]);
    expect(home.sip.conversion!.identify(name)?.realUser).toBe('alice@home.lab'); // the carrier still knows
    await bob.phone.hangup(leg.id);
    await until(() => last(alice, placed.id)?.state === 'terminated');
    expect(last(alice, placed.id)).toMatchObject({ status: 200, endedBy: 'remote' });
    expect(leaks(bob, leg.sipCallId, { user: 'alice', displayName: 'Alice Liddell' })).toEqual([]);
    await until(() => home.sip.conversion!.records().length === 0, 3000); // freed after the linger
    expect(home.sip.conversion!.table.pool.used).toBe(0);
    // After the call the operator still knows who it was, by the Call-ID the callee was shown.
    expect(home.sip.conversion!.identify(leg.sipCallId)).toMatchObject({ realUser: 'alice@home.lab', anonymousUser: name, shownAs: `"Anonymous" <${leg.remote.uri}>`, endedAt: expect.any(String) });
    expect(home.sip.conversion!.history()).toHaveLength(1);

    // and the other way round: the caller hangs up
    bob.events.length = 0;
    const second = await callAndHangUp(alice, bob, target, 'caller', anonymity);
    expect(second.callerLeg.status).toBe(200);
    expect(second.calleeLeg.remote.anonymous).toBe(true);
  });

  it('passes a presented call untouched', async () => {
    const home = await lab('home.lab', {});
    const alice = agent('alice', home, 'home.lab', 'Alice Liddell');
    const bob = agent('bob', home, 'home.lab');
    await alice.phone.register();
    await bob.phone.register();
    const { calleeLeg } = await callAndHangUp(alice, bob, 'bob', 'caller');
    expect(calleeLeg.remote).toMatchObject({ anonymous: false, user: 'alice', display: 'Alice Liddell' });
    expect(home.sip.conversion!.counters.converted).toBe(0);
  });

  /** Two labs for two domains: a.lab serves alice, b.lab serves bob. */
  async function twoDomains(a: Partial<ConversionServerOptions> | false, b: Partial<ConversionServerOptions> | false): Promise<{ alice: Agent; bob: Agent; labA: Lab; labB: Lab }> {
    const labA = await lab('a.lab', a);
    const labB = await lab('b.lab', b);
    labA.sip.proxy.addPeer('b.lab', { address: '127.0.0.1', port: labB.sip.ports.udp! });
    labB.sip.proxy.addPeer('a.lab', { address: '127.0.0.1', port: labA.sip.ports.udp! });
    const alice = agent('alice', labA, 'a.lab', 'Alice Liddell');
    const bob = agent('bob', labB, 'b.lab');
    await alice.phone.register();
    await bob.phone.register();
    return { alice, bob, labA, labB };
  }

  it('Embodiment 3 (callee\'s server): b.lab erases the Vias and converts user, domain and Call-ID domain', async () => {
    const { alice, bob, labB } = await twoDomains(false, { placement: 'callee-server', domain: 'b.lab' });
    const { calleeLeg } = await callAndHangUp(alice, bob, 'sip:184bob@b.lab', 'callee');
    expect(calleeLeg.remote).toMatchObject({ anonymous: true, uri: expect.stringMatching(/^sip:Anonymous\d+@b\.lab$/) });
    const invite = bob.trace.find((e) => e.dir === 'in' && e.raw.startsWith('INVITE '))!.raw;
    expect(parseSipMessage(invite).getAll('via')).toHaveLength(1); // only b.lab's own Via (Fig. 17)
    expect(leaks(bob, calleeLeg.sipCallId, { user: 'alice', displayName: 'Alice Liddell', domain: 'a.lab' })).toEqual([]);
    expect(labB.sip.conversion!.counters.converted).toBe(1);
  });

  it('Embodiment 4 (both): a.lab converts identity and SDP, b.lab the Vias and domains', async () => {
    const { alice, bob, labA, labB } = await twoDomains({ placement: 'caller-server', steps: ['identity', 'sdp'] }, { placement: 'callee-server', domain: 'b.lab', steps: ['via', 'domain', 'call-id'] });
    const { calleeLeg, callerLeg } = await callAndHangUp(alice, bob, 'sip:184bob@b.lab', 'caller');
    expect(callerLeg.status).toBe(200);
    expect(calleeLeg.remote).toMatchObject({ anonymous: true, uri: expect.stringMatching(/^sip:Anonymous\d+@b\.lab$/) });
    expect(leaks(bob, calleeLeg.sipCallId, { user: 'alice', displayName: 'Alice Liddell', domain: 'a.lab' })).toEqual([]);
    expect([labA.sip.conversion!.counters.converted, labB.sip.conversion!.counters.converted]).toEqual([1, 1]);
    const invite = bob.trace.find((e) => e.dir === 'in' && e.raw.startsWith('INVITE '))!.raw;
    expect(invite).toMatch(/^o=anonymous /m); // SDP converted at a.lab (Fig. 12)
  });

  it('Embodiment 5 (carrier top-level domain): the From and the Call-ID domain become the carrier\'s', async () => {
    const { alice, bob } = await twoDomains({ placement: 'carrier', domain: 'carrier.example' }, false);
    const { calleeLeg } = await callAndHangUp(alice, bob, 'sip:184bob@b.lab', 'callee');
    expect(calleeLeg.remote.uri).toMatch(/^sip:Anonymous\d+@carrier\.example$/);
    expect(leaks(bob, calleeLeg.sipCallId, { user: 'alice', displayName: 'Alice Liddell', domain: 'a.lab' })).toEqual([]);
  });

  it('answers a pool run dry with 503, 184 alone with 484, and a broken SDP with 400', async () => {
    const home = await lab('home.lab', { poolSize: 1 });
    const alice = agent('alice', home, 'home.lab');
    const bob = agent('bob', home, 'home.lab');
    const carol = agent('carol', home, 'home.lab');
    for (const a of [alice, bob, carol]) await a.phone.register();
    const first = await alice.phone.call({ target: '184bob' });
    await until(() => last(alice, first.id)?.state === 'established');
    const second = await carol.phone.call({ target: '184bob' });
    await until(() => last(carol, second.id)?.state === 'terminated');
    expect(last(carol, second.id)).toMatchObject({ status: 503 });
    expect(home.sip.conversion!.counters.refused.POOL_EXHAUSTED).toBe(1);

    const { socket, replies } = await rawPeer();
    const raw = (uri: string, branch: string, sdp: string): string =>
      [`INVITE ${uri} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${socket.local.port};branch=z9hG4bK${branch}`, 'Max-Forwards: 70', 'From: <sip:mallory@home.lab>;tag=m1', `To: <${uri}>`, `Call-ID: ${branch}@x`, 'CSeq: 1 INVITE', 'Content-Type: application/sdp', `Content-Length: ${sdp.length}`, '', sdp].join('\r\n');
    void socket.send(raw('sip:184@home.lab', 'only', ''), { address: '127.0.0.1', port: home.sip.ports.udp! });
    void socket.send(raw('sip:184bob@home.lab', 'badsdp', 'v=0\r\nthis is not sdp\r\n'), { address: '127.0.0.1', port: home.sip.ports.udp! });
    await until(() => replies.length === 2);
    expect(replies.map((r) => `${r.callId} ${r.status}`).sort()).toEqual(['badsdp@x 400', 'only@x 484']);
    expect(replies.find((r) => r.status === 400)!.reason).toMatch(/^Bad Request \(SDP: /);
    await alice.phone.hangup(first.id);
  });

  it('refuses an anonymity request whose caller identity it cannot read, instead of forwarding it unconverted', async () => {
    const home = await lab('home.lab', {});
    const bob = agent('bob', home, 'home.lab');
    await bob.phone.register();
    const { socket, replies } = await rawPeer();
    const port = socket.local.port;
    const invite = (id: string, identity: string): string =>
      [`INVITE sip:bob@home.lab SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${id}`, 'Max-Forwards: 70', 'From: "Alice Liddell" <sip:anonymous@anonymous.invalid>;tag=a1', '<sip:bob@home.lab>'.replace(/^/, 'To: '), `Call-ID: ${id}@x`, 'CSeq: 1 INVITE', `Contact: <sip:a@127.0.0.1:${port}>`, 'Privacy: id', `P-Preferred-Identity: ${identity}`, 'Content-Length: 0', '', ''].join('\r\n');
    // an IPv6 domain without brackets (RFC 3261 §25.1 wants an IPv6reference), and no URI at all
    void socket.send(invite('unbracketed', '<sip:alice@2001:db8:a::1>'), { address: '127.0.0.1', port: home.sip.ports.udp! });
    void socket.send(invite('garbage', 'alice at home'), { address: '127.0.0.1', port: home.sip.ports.udp! });
    await until(() => replies.length === 2);
    expect(replies.map((r) => `${r.callId} ${r.status}`).sort()).toEqual(['garbage@x 400', 'unbracketed@x 400']);
    expect(home.sip.conversion!.counters.refused.BAD_IDENTITY).toBe(2);
    expect(bob.events.some((e) => e.type === 'incoming')).toBe(false);
  });

  it('takes out the informational headers another caller\'s agent adds (RFC 3323 §5.3): the callee learns no organisation, picture or program', async () => {
    const home = await lab('home.lab', {});
    const bob = agent('bob', home, 'home.lab');
    await bob.phone.register();
    const { socket } = await rawPeer();
    const port = socket.local.port;
    const informational = ['Subject: from Alice', 'Call-Info: <http://home.lab/alice.jpg>;purpose=icon', 'Organization: Liddell & Co', 'User-Agent: AliceSoft/1.0', 'Reply-To: <sip:alice@home.lab>', 'In-Reply-To: 70710@home.lab'];
    const invite = [
      'INVITE sip:184bob@home.lab SIP/2.0',
      `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKinfo1`,
      'Max-Forwards: 70',
      '<sip:alice@home.lab>;tag=a1'.replace(/^/, 'From: '),
      '<sip:184bob@home.lab>'.replace(/^/, 'To: '),
      'Call-ID: informational@x',
      'CSeq: 1 INVITE',
      `Contact: <sip:alice@127.0.0.1:${port}>`,
      ...informational,
      'X-Kept: yes',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    void socket.send(invite, { address: '127.0.0.1', port: home.sip.ports.udp! });
    const leg = await until(() => incoming(bob));
    expect(leg.remote.anonymous).toBe(true);
    const received = bob.trace.find((e) => e.dir === 'in' && e.raw.startsWith('INVITE '))!.raw;
    for (const line of informational) expect(received, line).not.toContain(line.split(':')[0]);
    expect(received).toContain('X-Kept: yes'); // what is not informational goes on
  });

  it('converts a header-mode call whose domain is an IPv6 literal (the caller\'s identity written in brackets)', async () => {
    const home = await Lab.start({ address: '::1', domains: ['[::1]'], timers, sockets: network, conversion: { placement: 'caller-server', lingerMs: 200 } });
    cleanup.push(() => home.stop());
    const phone = (user: string, display?: string): Agent => {
      const events: PhoneEvent[] = [];
      const trace: SipTapEntry[] = [];
      const p = new Phone({
        accounts: [{ id: user, user, server: home.servers.udp!, transport: 'udp', domain: '::1', answer: { kind: 'auto' }, ...(display ? { displayName: display } : {}) }],
        createSessionDescriptionHandlerFactory: () => staticSdhFactory(),
        timers,
        sockets: network,
        onTrace: (_account, entry) => trace.push(entry),
      });
      p.subscribe((e) => events.push(e));
      cleanup.push(() => p.shutdown());
      return { phone: p, events, trace };
    };
    const alice = phone('alice', 'Alice Liddell');
    const bob = phone('bob');
    await alice.phone.register();
    await bob.phone.register();
    const { calleeLeg } = await callAndHangUp(alice, bob, 'bob', 'callee', 'header');
    expect(calleeLeg.remote.anonymous).toBe(true);
    const received = bob.trace.filter((e) => e.dir === 'in' && rawCallId(e.raw) === calleeLeg.sipCallId).map((e) => e.raw).join('\n');
    expect(received).not.toMatch(/alice|Liddell|P-Preferred-Identity/i);
    expect(home.sip.conversion!.identify(calleeLeg.sipCallId)?.realUser).toBe('alice@[::1]');
  });

  it('with digest authentication, the identity in P-Preferred-Identity must prove itself before it gets an anonymous name (RFC 3325 §9.2)', async () => {
    const users = { alice: { password: 'wonder' }, bob: { password: 'builder' }, mallory: { password: 'evil' } };
    const home = await lab('home.lab', {}, users);
    const alice = agent('alice', home, 'home.lab', 'Alice Liddell', 'wonder');
    const bob = agent('bob', home, 'home.lab', undefined, 'builder');
    await alice.phone.register();
    await bob.phone.register();
    const placed = await alice.phone.call({ target: 'bob', anonymity: 'header' });
    const leg = await until(() => incoming(bob));
    expect(home.sip.conversion!.identify(leg.sipCallId)?.realUser).toBe('alice@home.lab');
    const bobInvite = bob.trace.find((e) => e.dir === 'in' && e.raw.startsWith('INVITE '))!.raw;
    expect(bobInvite).not.toMatch(/^(Proxy-)?Authorization:/im); // the credentials stopped at the proxy
    await alice.phone.hangup(placed.id);

    // Mallory claims to be alice: unauthenticated, then with her own credentials — challenged both times, no name lent.
    const { socket, replies } = await rawPeer();
    const port = socket.local.port;
    const invite = (cseq: number, authorization?: string, claimed = 'alice', target = 'bob'): string =>
      [
        `INVITE sip:${target}@home.lab SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKforge${cseq}`,
        'Max-Forwards: 70',
        'From: "Anonymous" <sip:anonymous@anonymous.invalid>;tag=m1',
        `To: <sip:${target}@home.lab>`,
        `Call-ID: ${claimed === 'alice' ? 'forged' : 'own'}@x`,
        `CSeq: ${cseq} INVITE`,
        `Contact: <sip:m@127.0.0.1:${port}>`,
        'Privacy: id',
        `P-Preferred-Identity: <sip:${claimed}@home.lab>`,
        ...(authorization ? [`Proxy-Authorization: ${authorization}`] : []),
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
    void socket.send(invite(1), { address: '127.0.0.1', port: home.sip.ports.udp! });
    const challenge = await until(() => replies.find((r) => r.cseq.seq === 1));
    expect(challenge.status).toBe(407);
    const nonce = /nonce="([^"]+)"/.exec(challenge.get('proxy-authenticate')!)![1]!;
    const md5 = (text: string): string => createHash('md5').update(text).digest('hex');
    const credentials = (uri: string, nc: string): string =>
      `Digest username="mallory", realm="veilphone.lab", nonce="${nonce}", uri="${uri}", response="${md5(`${md5('mallory:veilphone.lab:evil')}:${nonce}:${nc}:c1:auth:${md5(`INVITE:${uri}`)}`)}", qop=auth, nc=${nc}, cnonce="c1", algorithm=MD5`;
    void socket.send(invite(2, credentials('sip:bob@home.lab', '00000001')), { address: '127.0.0.1', port: home.sip.ports.udp! });
    expect((await until(() => replies.find((r) => r.cseq.seq === 2))).status).toBe(407);
    // The same credentials claiming her own identity pass (to a user who is not there: 480, not 407).
    void socket.send(invite(3, credentials('sip:carol@home.lab', '00000002'), 'mallory', 'carol'), { address: '127.0.0.1', port: home.sip.ports.udp! });
    expect((await until(() => replies.find((r) => r.cseq.seq === 3))).status).toBe(404);
    expect(home.sip.conversion!.identify('forged@x')).toBeUndefined();
    expect(home.sip.conversion!.identify('own@x')?.realUser).toBe('mallory@home.lab');
  });
});
