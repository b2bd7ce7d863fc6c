import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import type { AccountConfig, CallSnapshot, PhoneEvent } from '../api/phone-types.js';
import { parseSipMessage, type SipRequest } from '../sip/message/index.js';
import type { SipTapEntry } from '../sip/transport/message-tap.js';
import { Phone } from './phone.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { until } from '../../test/support/until.js';

/** Issue 22 item 3: transfer by REFER (RFC 3515, RFC 5589) and Replaces (RFC 3891), through the lab proxy. */
describe('Phone call transfer', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  interface Agent {
    phone: Phone;
    events: PhoneEvent[];
    trace: SipTapEntry[];
    last(id: string): CallSnapshot | undefined;
    incomingFrom(user: string): CallSnapshot | undefined;
  }

  async function setUp(accounts: Record<string, Partial<AccountConfig>> = {}, network = new MemoryNetwork()): Promise<Record<'alice' | 'bob' | 'carol', Agent>> {
    const lab = await Lab.start({ users: { alice: {}, bob: {}, carol: {} }, timers: { t1: 100, t2: 400 }, sockets: network });
    cleanup.push(() => lab.stop());
    const agents: Record<string, Agent> = {};
    for (const user of ['alice', 'bob', 'carol']) {
      const events: PhoneEvent[] = [];
      const trace: SipTapEntry[] = [];
      const phone = new Phone({
        accounts: [{ id: user, user, server: lab.servers.udp!, transport: 'udp', domain: lab.domain, ...accounts[user] }],
        createSessionDescriptionHandlerFactory: () => staticSdhFactory(),
        timers: { t1: 100, t2: 400 },
        sockets: network,
        onTrace: (_account, entry) => trace.push(entry),
      });
      phone.subscribe((e) => events.push(e));
      cleanup.push(() => phone.shutdown());
      await phone.register();
      agents[user] = {
        phone,
        events,
        trace,
        last: (id) => events.filter((e): e is Extract<PhoneEvent, { type: 'call' | 'incoming' }> => (e.type === 'call' || e.type === 'incoming') && e.call.id === id).at(-1)?.call,
        incomingFrom: (from) => (events.find((e) => e.type === 'incoming' && e.call.remote.user === from) as Extract<PhoneEvent, { type: 'incoming' }> | undefined)?.call,
      };
    }
    return agents as Record<'alice' | 'bob' | 'carol', Agent>;
  }

  /** Requests of `method` in the trace, a UDP retransmission (same CSeq) counted once. */
  const requests = (agent: Agent, method: string, dir: 'in' | 'out'): SipRequest[] => {
    const seen = new Set<string>();
    return agent.trace
      .filter((e) => e.dir === dir && e.raw.startsWith(`${method} `))
      .map((e) => parseSipMessage(e.raw) as SipRequest)
      .filter((r) => {
        const key = `${r.callId} ${r.get('cseq')}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
  };

  /** alice calls bob, bob answers. */
  async function connect(from: Agent, to: Agent, toUser: string, fromUser: string): Promise<{ caller: string; callee: string }> {
    const placed = await from.phone.call({ target: toUser });
    const incoming = await until(() => to.events.filter((e): e is Extract<PhoneEvent, { type: 'incoming' }> => e.type === 'incoming' && e.call.remote.user === fromUser).at(-1)?.call);
    await to.phone.answer(incoming.id);
    await until(() => from.last(placed.id)?.state === 'established');
    return { caller: placed.id, callee: incoming.id };
  }

  it('blind: bob REFERs alice to carol; alice calls carol and NOTIFYs 100 Trying (active) then 200 OK (terminated); bob then hangs up', async () => {
    const { alice, bob, carol } = await setUp();
    const ab = await connect(alice, bob, 'bob', 'alice');
    await bob.phone.transfer(ab.callee, { to: 'carol' });
    const atCarol = await until(() => carol.incomingFrom('alice'));
    await carol.phone.answer(atCarol.id);
    await until(() => bob.last(ab.callee)?.state === 'terminated');
    expect(bob.last(ab.callee)!.transfer).toMatchObject({ role: 'transferor', state: 'succeeded', status: 200, attended: false, target: expect.stringMatching(/^sip:carol@/) });
    await until(() => alice.last(ab.caller)?.state === 'terminated');
    expect(alice.last(ab.caller)).toMatchObject({ state: 'terminated', endedBy: 'remote', transfer: { role: 'transferee', state: 'succeeded', status: 200 } });
    const aliceToCarol = alice.events.find((e) => e.type === 'call' && e.call.transferredFrom === ab.caller) as Extract<PhoneEvent, { type: 'call' }>;
    expect(alice.last(aliceToCarol.call.id)).toMatchObject({ state: 'established', remote: { user: 'carol' } });

    const refer = requests(bob, 'REFER', 'out')[0]!;
    expect(refer.get('refer-to')).toMatch(/^<sip:carol@[^>?]+>$/); // RFC 3515 §2.1: name-addr form
    const notifies = requests(bob, 'NOTIFY', 'in');
    expect(notifies.map((n) => [n.body, n.get('subscription-state')!.split(';')[0], n.get('event'), n.get('content-type')])).toEqual([
      ['SIP/2.0 100 Trying', 'active', expect.stringMatching(/^refer/), 'message/sipfrag'],
      ['SIP/2.0 180 Ringing', 'active', expect.stringMatching(/^refer/), 'message/sipfrag'],
      ['SIP/2.0 200 OK', 'terminated', expect.stringMatching(/^refer/), 'message/sipfrag'],
    ]);
    // every NOTIFY was answered 200 by bob
    expect(new Set(bob.trace.filter((e) => e.dir === 'out' && /^SIP\/2\.0 200 /.test(e.raw)).map((e) => /CSeq: (\d+) NOTIFY/i.exec(e.raw)?.[1]).filter(Boolean)).size).toBe(3);
    // alice's INVITE to carol names who referred her (RFC 3892)
    expect(requests(carol, 'INVITE', 'in')[0]!.get('referred-by')).toMatch(/sip:bob@/);
  });

  it('blind to someone who refuses: the final NOTIFY carries the 486 with terminated, the transferor keeps its call', async () => {
    // carol's reason phrase as a hostile target could write it: the sipfrag carries it cleaned (RFC 3515 §2.4.5)
    const network = new MemoryNetwork();
    const deliver = network.deliverDatagram.bind(network);
    network.deliverDatagram = (data, from, to) => deliver(Buffer.from(data.toString('utf8').replace('SIP/2.0 486 Busy Here\r\n', 'SIP/2.0 486 Busy\u202E Here\x1b\r\n')), from, to);
    const { alice, bob } = await setUp({ carol: { answer: { kind: 'reject', status: 486 } } }, network);
    const ab = await connect(alice, bob, 'bob', 'alice');
    await bob.phone.transfer(ab.callee, { to: 'carol' });
    await until(() => bob.last(ab.callee)?.transfer?.state === 'failed');
    expect(bob.last(ab.callee)).toMatchObject({ state: 'established', transfer: { state: 'failed', status: 486 } });
    const final = requests(bob, 'NOTIFY', 'in').at(-1)!;
    expect([final.body, final.get('subscription-state')!.split(';')[0]]).toEqual(['SIP/2.0 486 Busy Here', 'terminated']);
    expect(alice.last(ab.caller)!.state).toBe('established');
  });

  it('attended: bob consults carol, then REFERs alice with Replaces; carol takes alice in place of bob without ringing, and bob ends with neither call', async () => {
    const { alice, bob, carol } = await setUp();
    const ab = await connect(alice, bob, 'bob', 'alice');
    await bob.phone.hold(ab.callee, true);
    const bc = await connect(bob, carol, 'carol', 'bob');
    const ringsBefore = carol.events.filter((e) => e.type === 'incoming').length;
    await bob.phone.transfer(ab.callee, { replaces: bc.caller });
    await until(() => bob.last(ab.callee)?.state === 'terminated' && bob.last(bc.caller)?.state === 'terminated');
    expect(bob.last(ab.callee)!.transfer).toMatchObject({ role: 'transferor', state: 'succeeded', attended: true });
    const replacing = await until(() => (carol.events.find((e) => e.type === 'call' && e.call.replaced === bc.callee) as Extract<PhoneEvent, { type: 'call' }> | undefined)?.call);
    await until(() => carol.last(replacing.id)?.state === 'established');
    expect(carol.last(replacing.id)!.remote.user).toBe('alice');
    expect(carol.last(bc.callee)).toMatchObject({ state: 'terminated', endedBy: 'local' });
    expect(carol.events.filter((e) => e.type === 'incoming').length).toBe(ringsBefore); // it never rang
    // RFC 5589 §7.1: the target by its address-of-record (a proxy routing by registration reaches it), Replaces inside
    expect(requests(bob, 'REFER', 'out')[0]!.get('refer-to')).toMatch(/^<sip:carol@[^?>]+\?Replaces=[^>]+>$/);
    const invite = requests(carol, 'INVITE', 'in').at(-1)!;
    const bcCallId = carol.last(bc.callee)!.sipCallId;
    expect(invite.get('replaces')).toMatch(new RegExp(`^${bcCallId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')};`));
    expect(carol.trace.some((e) => e.dir === 'out' && /^SIP\/2\.0 200 /.test(e.raw) && e.raw.includes(`Call-ID: ${invite.callId}`) && /Supported:[^\r\n]*replaces/i.test(e.raw))).toBe(true);
  });

  it('names no one in Referred-By when the transferred call withheld the transferor (SPEC A)', async () => {
    const { alice, bob, carol } = await setUp();
    const placed = await bob.phone.call({ target: 'alice', anonymity: 'header' });
    const atAlice = await until(() => alice.events.find((e): e is Extract<PhoneEvent, { type: 'incoming' }> => e.type === 'incoming')?.call);
    await alice.phone.answer(atAlice.id);
    await until(() => bob.last(placed.id)?.state === 'established');
    await bob.phone.transfer(placed.id, { to: 'carol' });
    const atCarol = await until(() => carol.incomingFrom('alice'));
    await carol.phone.answer(atCarol.id);
    await until(() => bob.last(placed.id)?.transfer?.state === 'succeeded');
    expect(requests(bob, 'REFER', 'out')[0]!.get('referred-by')).toBeUndefined();
    expect(requests(carol, 'INVITE', 'in')[0]!.get('referred-by')).toBeUndefined();
    expect(carol.trace.find((e) => e.dir === 'in' && e.raw.startsWith('INVITE '))!.raw).not.toMatch(/\bbob\b/i); // the name, not three letters of a random token
  });

  it.each([
    ['header', undefined],
    ['header', 'full'],
    ['prefix', undefined],
  ] as const)('the transferee keeps its anonymity (%s, level %s): a caller withheld from the transferor is withheld from the target too (SPEC A)', async (mode, level) => {
    const { alice, bob, carol } = await setUp();
    const placed = await alice.phone.call({ target: 'bob', anonymity: mode, ...(level ? { anonymityLevel: level } : {}) });
    const atBob = await until(() => bob.events.find((e): e is Extract<PhoneEvent, { type: 'incoming' }> => e.type === 'incoming')?.call);
    expect(atBob.remote.anonymous).toBe(true);
    await bob.phone.answer(atBob.id);
    await until(() => alice.last(placed.id)?.state === 'established');
    await bob.phone.transfer(atBob.id, { to: 'carol' });
    const atCarol = await until(() => carol.events.find((e): e is Extract<PhoneEvent, { type: 'incoming' }> => e.type === 'incoming')?.call);
    expect(atCarol.remote.anonymous).toBe(true);
    expect(carol.trace.find((e) => e.dir === 'in' && e.raw.startsWith('INVITE '))!.raw).not.toMatch(/\balice\b/i);
    await carol.phone.answer(atCarol.id);
    await until(() => bob.last(atBob.id)?.transfer?.state === 'succeeded');
    // the new INVITE asks for what the first one asked for (RFC 3323 §4.2)
    const [first, second] = requests(alice, 'INVITE', 'out').filter((r) => !r.has('authorization'));
    expect(second!.get('privacy')).toBe(first!.get('privacy'));
    if (level === 'full') expect(second!.get('privacy')).toBe('header;user;id');
  });

  it('reports a target nobody can reach (404 in the final NOTIFY) and refuses transfers to no call or to the call itself', async () => {
    const { alice, bob } = await setUp();
    const ab = await connect(alice, bob, 'bob', 'alice');
    await bob.phone.transfer(ab.callee, { to: 'nobody' });
    await until(() => bob.last(ab.callee)?.transfer?.state === 'failed');
    expect(bob.last(ab.callee)!.transfer!.status).toBe(404);
    expect(alice.last(ab.caller)!.transfer).toMatchObject({ role: 'transferee', state: 'failed', status: 404 });
    await expect(bob.phone.transfer(ab.callee, { replaces: ab.callee })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(bob.phone.transfer(ab.callee, { replaces: 'nope' })).rejects.toMatchObject({ code: 'UNKNOWN_CALL' });
  });
});
