import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import type { AccountConfig, CallSnapshot, PhoneEvent } from '../api/phone-types.js';
import { CallLogStore } from '../calllog/call-log-store.js';
import { Phone } from './phone.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { until } from '../../test/support/until.js';

/** SPEC A and F: the choice of anonymity and what really went out are in the call log; the callee logs "Anonymous". */
describe('the call log of anonymous calls', () => {
  const timers = { t1: 100, t2: 400 };
  const network = new MemoryNetwork();
  let lab: Lab;
  let aliceLog: CallLogStore;
  let bobLog: CallLogStore;
  const phones: Phone[] = [];

  beforeEach(async () => {
    lab = await Lab.start({ users: { alice: {}, bob: {} }, domains: ['home.lab'], timers, sockets: network });
    aliceLog = CallLogStore.open(':memory:');
    bobLog = CallLogStore.open(':memory:');
  });
  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.shutdown()));
    await lab.stop();
    aliceLog.close();
    bobLog.close();
  });

  function phone(account: Partial<AccountConfig> & { id: string; user: string }, log: CallLogStore): { phone: Phone; events: PhoneEvent[] } {
    const events: PhoneEvent[] = [];
    const p = new Phone({
      accounts: [{ server: lab.servers.udp!, transport: 'udp', domain: 'home.lab', ...account }],
      callLog: log,
      createSessionDescriptionHandlerFactory: () => staticSdhFactory(),
      timers,
      sockets: network,
    });
    p.subscribe((e) => events.push(e));
    phones.push(p);
    return { phone: p, events };
  }


  const last = (events: PhoneEvent[], id: string): CallSnapshot | undefined =>
    events.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === id).at(-1)?.call;

  it('records the mode and the really-sent From and Request-URI for header and prefix mode, and marks the incoming side anonymous', async () => {
    const alice = phone({ id: 'alice', user: 'alice', displayName: 'Alice Liddell' }, aliceLog);
    const bob = phone({ id: 'bob', user: 'bob', answer: { kind: 'auto' } }, bobLog);
    await alice.phone.register();
    await bob.phone.register();

    const placed: CallSnapshot[] = [];
    for (const request of [{ target: 'bob', anonymity: 'header' as const, anonymityLevel: 'full' as const }, { target: '184bob' }, { target: 'bob' }]) {
      const call = await alice.phone.call(request);
      await until(() => last(alice.events, call.id)?.state === 'established');
      await alice.phone.hangup(call.id);
      await until(() => last(alice.events, call.id)?.state === 'terminated');
      placed.push(call);
    }
    await until(() => bob.events.filter((e) => e.type === 'call' && e.call.state === 'terminated').length >= 3 || undefined);
    aliceLog.flush();
    bobLog.flush();

    const [header, prefix, presented] = await Promise.all(placed.map((c) => alice.phone.callDetail(c.id)));
    expect(header).toMatchObject({ anonymity: 'header', dialed: 'bob', sentRequestUri: 'sip:bob@home.lab', remoteShown: 'bob' });
    expect(header!.sentFrom).toMatch(/^"Anonymous" <sip:anonymous@anonymous\.invalid>;tag=\w+$/);
    const sentInvite = header!.messages.find((m) => m.dir === 'out' && m.raw.startsWith('INVITE '))!.raw;
    expect(sentInvite).toMatch(/^Privacy: header;user;id$/m);
    expect(sentInvite).toMatch(/^P-Preferred-Identity: <sip:alice@home\.lab>$/m);

    // Prefix mode: the terminal sends its own From and leaves 184 in the Request-URI for the conversion server.
    expect(prefix).toMatchObject({ anonymity: 'prefix', dialed: '184bob', sentRequestUri: 'sip:184bob@home.lab', remoteShown: 'bob' });
    expect(prefix!.sentFrom).toMatch(/^"Alice Liddell" <sip:alice@home\.lab>;tag=\w+$/);
    expect(presented).toMatchObject({ anonymity: 'none', sentRequestUri: 'sip:bob@home.lab' });

    const received = (await bob.phone.history({ direction: 'incoming' })).calls.sort((a, b) => a.startedAt - b.startedAt);
    expect(received.map((c) => [c.remoteAnonymous, c.remoteShown])).toEqual([
      [true, 'Anonymous'],
      [true, 'Anonymous'],
      [false, 'Alice Liddell'],
    ]);
    expect(received[0]!.remoteUser).toMatch(/^Anonymous\d+$/); // the conversion server's name for her, not hers
    // Support staff can list the anonymous calls on either side.
    expect((await bob.phone.history({ anonymous: true })).calls).toHaveLength(2);
    expect((await alice.phone.history({ anonymous: true })).calls.map((c) => c.anonymity).sort()).toEqual(['header', 'prefix']);

    // Unlinkable (RFC 3323 §4.1): the Call-IDs bob was given share nothing with each other, nor with the Call-IDs of
    // alice's registration, so bob cannot tell the anonymous calls came from the identified caller of the third call
    // (sip.js starts every Call-ID of one UserAgent with the same five characters).
    const ids = [...received.map((c) => c.sipCallId), ...(header?.messages ?? []).filter((m) => m.raw.startsWith('REGISTER ')).map((m) => /^Call-ID:\s*(\S+)/im.exec(m.raw)![1]!)];
    for (const [i, a] of received.map((c) => c.sipCallId).entries()) {
      for (const b of ids.slice(i + 1)) expect(commonPrefix(a, b), `${a} and ${b}`).toBeLessThan(4);
    }
  });
});

/**
 * Issue 17 item 2: with no server to rewrite it, every request the caller sends in an anonymous dialog carries the
 * anonymous From of its INVITE (sip.js wrote its UserAgent's display name into the ACK, BYE, re-INVITE and INFO).
 */
describe('the in-dialog requests of an anonymous call, with no conversion server', () => {
  const timers = { t1: 100, t2: 400 };
  const phones: Phone[] = [];
  let lab: Lab;
  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.shutdown()));
    await lab.stop();
  });

  it('carry exactly the anonymous From of the INVITE, and no User-Agent nor the session interval the account asks for: ACK, re-INVITEs, INFO and BYE', async () => {
    lab = await Lab.start({ users: { alice: {}, bob: {} }, domains: ['home.lab'], timers, conversion: false });
    const received: string[] = [];
    const make = (account: AccountConfig, trace: string[], dir: 'in' | 'out'): { phone: Phone; events: PhoneEvent[] } => {
      const events: PhoneEvent[] = [];
      const p = new Phone({ accounts: [account], createSessionDescriptionHandlerFactory: () => staticSdhFactory(), timers, onTrace: (_a, e) => e.dir === dir && trace.push(e.raw) });
      p.subscribe((e) => events.push(e));
      phones.push(p);
      return { phone: p, events };
    };
    const common = { server: lab.servers.udp!, transport: 'udp' as const, domain: 'home.lab' };
    // an unusual session interval of her own (RFC 4028) would mark her anonymous calls: they ask for none
    const alice = make({ id: 'alice', user: 'alice', displayName: 'Alice Liddell', sessionExpires: 1234, ...common }, [], 'in');
    const bob = make({ id: 'bob', user: 'bob', displayName: 'Bob Builder', answer: { kind: 'auto' }, ...common }, received, 'in');
    await alice.phone.register();
    await bob.phone.register();
    const call = await alice.phone.call({ target: 'bob', anonymity: 'header', anonymityLevel: 'full' });
    await until(() => last(alice.events, call.id)?.state === 'established');
    await alice.phone.hold(call.id, true);
    await alice.phone.hold(call.id, false);
    await alice.phone.sendDtmf(call.id, '5', 'info');
    await alice.phone.hangup(call.id);
    await until(() => received.some((r) => r.startsWith('BYE ')) || undefined);
    const requests = received.filter((r) => !r.startsWith('SIP/2.0') && !r.startsWith('REGISTER ') && !r.startsWith('OPTIONS '));
    expect(requests.map((r) => r.split(' ')[0])).toEqual(expect.arrayContaining(['INVITE', 'ACK', 'INFO', 'BYE']));
    expect(requests.filter((r) => r.startsWith('INVITE ')).length).toBeGreaterThanOrEqual(3); // the call, hold, resume
    for (const request of requests) {
      expect(/^From:.*$/m.exec(request)![0], request.split('\r\n')[0]).toMatch(/^From: "Anonymous" <sip:anonymous@anonymous\.invalid>;tag=\w+\r?$/);
      expect(request).not.toMatch(/Liddell/);
      // RFC 3323 §5.3: no User-Agent telling which program the anonymous caller runs (sip.js writes one into each)
      expect(request, request.split('\r\n')[0]).not.toMatch(/^User-Agent:/im);
      expect(request, request.split('\r\n')[0]).not.toMatch(/^(Session-Expires|x|Min-SE)\s*:/im);
    }
    // her identified calls ask for it
    received.length = 0;
    const identified = await alice.phone.call({ target: 'bob' });
    await until(() => last(alice.events, identified.id)?.state === 'established');
    await alice.phone.hangup(identified.id);
    expect(received.find((r) => r.startsWith('INVITE '))).toMatch(/^Session-Expires: 1234\r?$/m);
  });

  function last(events: PhoneEvent[], id: string): CallSnapshot | undefined {
    return events.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === id).at(-1)?.call;
  }
});

function commonPrefix(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}
