import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import type { AccountConfig, CallSnapshot, PhoneEvent } from '../api/phone-types.js';
import { CallLogStore } from '../calllog/call-log-store.js';
import { dispatchPhoneCommand } from './phone-api-dispatcher.js';
import { Phone } from './phone.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { until } from '../../test/support/until.js';

describe('Phone', () => {
  let lab: Lab;
  let log: CallLogStore;
  let network: MemoryNetwork;
  const phones: Phone[] = [];

  beforeEach(async () => {
    network = new MemoryNetwork();
    lab = await Lab.start({ users: { alice: {}, bob: {} }, timers: { t1: 100, t2: 400 }, sockets: network });
    log = CallLogStore.open(':memory:');
  });
  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.shutdown()));
    await lab.stop();
    log.close();
  });

  function phone(account: Partial<AccountConfig> & { id: string; user: string }, options: { maxCalls?: number } = {}): { phone: Phone; events: PhoneEvent[] } {
    const events: PhoneEvent[] = [];
    const p = new Phone({
      accounts: [{ server: lab.servers.udp!, transport: 'udp', domain: lab.domain, ...account }],
      callLog: log,
      createSessionDescriptionHandlerFactory: () => staticSdhFactory(),
      timers: { t1: 100, t2: 400 },
      sockets: network,
      ...options,
    });
    p.subscribe((e) => events.push(e));
    phones.push(p);
    return { phone: p, events };
  }


  const lastCall = (events: PhoneEvent[], id: string): CallSnapshot | undefined =>
    events.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === id).at(-1)?.call;

  it('registers, calls, auto-answers, hangs up, and logs both legs with their traces', async () => {
    const alice = phone({ id: 'alice', user: 'alice', displayName: 'Alice Liddell' });
    const bob = phone({ id: 'bob', user: 'bob', transport: 'tcp', server: lab.servers.tcp!, answer: { kind: 'auto' } });
    expect((await alice.phone.register()).state).toBe('registered');
    expect((await bob.phone.register()).state).toBe('registered');

    const call = await alice.phone.call({ target: 'bob' });
    expect(call.state).toBe('calling');
    await until(() => (lastCall(alice.events, call.id)?.state === 'established' ? true : undefined));
    const incoming = bob.events.find((e) => e.type === 'incoming') as Extract<PhoneEvent, { type: 'incoming' }>;
    expect(incoming.call.remote).toMatchObject({ user: 'alice', display: 'Alice Liddell', shown: 'Alice Liddell', anonymous: false });

    await alice.phone.hangup(call.id);
    await until(() => (lastCall(bob.events, incoming.call.id)?.state === 'terminated' ? true : undefined));
    const placed = await until(() => {
      const entry = log.getCall(call.id);
      return entry && entry.messages.some((m) => m.raw.startsWith('SIP/2.0 200 OK') && m.raw.includes('BYE')) ? entry : undefined;
    });
    expect(placed).toMatchObject({ direction: 'outgoing', result: 'answered', status: 200, endedBy: 'local', remoteUser: 'bob', dialed: 'bob' });
    expect(placed.messages[0]!.raw).toMatch(/^INVITE sip:bob@/);
    const received = log.getCall(incoming.call.id)!;
    expect(received).toMatchObject({ direction: 'incoming', result: 'answered', endedBy: 'remote' });
    expect(received.messages[0]!.raw).toMatch(/^INVITE /);
    expect(received.messages.filter((m) => m.dir === 'out' && m.raw.startsWith('SIP/2.0 180 ')).length).toBe(1); // rings once
    expect((await alice.phone.history({ direction: 'outgoing' })).calls.map((c) => c.id)).toEqual([call.id]);
  });

  it('links phones and the lab through the in-memory network: a call opens no socket of the operating system', async () => {
    const sockets = (): string[] => process.getActiveResourcesInfo().filter((r) => /UDP|TCP/i.test(r));
    const before = sockets();
    const alice = phone({ id: 'alice', user: 'alice' });
    const bob = phone({ id: 'bob', user: 'bob', transport: 'tcp', server: lab.servers.tcp!, answer: { kind: 'auto' } });
    await alice.phone.register();
    await bob.phone.register();
    const call = await alice.phone.call({ target: 'bob' });
    await until(() => lastCall(alice.events, call.id)?.state === 'established');
    expect(sockets()).toEqual(before);
    expect(network.carried).toBeGreaterThan(6); // REGISTER ×2, INVITE, 100, 180, 200, ACK, each through the lab
  });

  it('turns its own INVITE away when it loops back to the same account (482, RFC 3261 §8.2.2.2), and calls itself nothing', async () => {
    const alice = phone({ id: 'alice', user: 'alice', answer: { kind: 'auto' } });
    await alice.phone.register();
    const call = await alice.phone.call({ target: 'alice' });
    await until(() => lastCall(alice.events, call.id)?.state === 'terminated');
    expect(lastCall(alice.events, call.id)).toMatchObject({ status: 482 });
    expect(alice.events.filter((e) => e.type === 'incoming')).toEqual([]);
  });

  it('takes at most maxCalls calls at once: the next INVITE gets 486 without a log entry, reported once, and call() is refused', async () => {
    const alice = phone({ id: 'alice', user: 'alice' });
    const bob = phone({ id: 'bob', user: 'bob' }, { maxCalls: 2 });
    await alice.phone.register();
    await bob.phone.register();
    const placed: CallSnapshot[] = [];
    for (let i = 0; i < 4; i++) placed.push(await alice.phone.call({ target: 'bob' }));
    await until(() => placed.slice(2).every((c) => lastCall(alice.events, c.id)?.state === 'terminated'));
    expect(placed.slice(2).map((c) => lastCall(alice.events, c.id)!.status)).toEqual([486, 486]);
    expect(bob.events.filter((e) => e.type === 'incoming')).toHaveLength(2); // two ringing, nothing about the others
    expect(bob.events.filter((e) => e.type === 'error' && e.code === 'TOO_MANY_CALLS')).toHaveLength(1);
    expect((await bob.phone.history({ direction: 'incoming' })).calls).toHaveLength(2);
    await expect(bob.phone.call({ target: 'alice' })).rejects.toMatchObject({ code: 'TOO_MANY_CALLS' });
  });

  it('records missed, rejected, busy and failed calls with the right words', async () => {
    const alice = phone({ id: 'alice', user: 'alice' });
    const bob = phone({ id: 'bob', user: 'bob', answer: { kind: 'reject', status: 486 } });
    await alice.phone.register();
    await bob.phone.register();
    const busy = await alice.phone.call({ target: 'bob' });
    await until(() => (lastCall(alice.events, busy.id)?.state === 'terminated' ? true : undefined));
    expect(log.getCall(busy.id)).toMatchObject({ result: 'busy', status: 486 });
    // Rejected by configuration (do not disturb): logged, but it never rang, so no incoming event told anyone.
    const rejectedLeg = bob.events.find((e) => e.type === 'call' && e.call.direction === 'incoming') as { call: CallSnapshot };
    await until(() => (log.getCall(rejectedLeg.call.id)?.result === 'rejected' ? true : undefined));
    expect(bob.events.filter((e) => e.type === 'incoming')).toEqual([]);

    const unknown = await alice.phone.call({ target: 'nobody' });
    await until(() => (lastCall(alice.events, unknown.id)?.state === 'terminated' ? true : undefined));
    expect(log.getCall(unknown.id)).toMatchObject({ result: 'failed', status: 404 });
  });

  it('cancels a ringing call: the caller sees cancelled, the callee missed', async () => {
    const alice = phone({ id: 'alice', user: 'alice' });
    const bob = phone({ id: 'bob', user: 'bob' });
    await alice.phone.register();
    await bob.phone.register();
    const call = await alice.phone.call({ target: 'bob' });
    await until(() => (lastCall(alice.events, call.id)?.state === 'ringing' ? true : undefined));
    await alice.phone.hangup(call.id);
    await until(() => (lastCall(alice.events, call.id)?.state === 'terminated' ? true : undefined));
    const leg = (bob.events.find((e) => e.type === 'incoming') as { call: CallSnapshot }).call;
    await until(() => (lastCall(bob.events, leg.id)?.state === 'terminated' ? true : undefined));
    expect(log.getCall(call.id)).toMatchObject({ result: 'cancelled', status: 487 });
    expect(log.getCall(leg.id)).toMatchObject({ result: 'missed', endedBy: 'remote' });
  });

  it('refreshes its registration before it expires (RFC 3261 §10.2.4) and removes it on unregister', async () => {
    const alice = phone({ id: 'alice', user: 'alice', registerExpires: 2 });
    await alice.phone.register();
    const expiresFirst = lab.sip.bindings().find((b) => b.user === 'alice')!.expiresAt;
    const binding = await until(() => lab.sip.bindings().find((b) => b.user === 'alice' && b.expiresAt > expiresFirst), 4000);
    expect(binding.expiresAt).toBeGreaterThan(expiresFirst);
    expect((await alice.phone.snapshot()).registrations[0]!.state).toBe('registered');
    await alice.phone.unregister();
    expect(lab.sip.bindings().find((b) => b.user === 'alice')).toBeUndefined();
  });

  it('rejects bad commands with typed errors', async () => {
    const alice = phone({ id: 'alice', user: 'alice' });
    await expect(alice.phone.call({ target: 'bad target!' })).rejects.toMatchObject({ code: 'INVALID_TARGET' });
    await expect(alice.phone.hangup('nope')).rejects.toMatchObject({ code: 'UNKNOWN_CALL' });
    await expect(alice.phone.register('carol')).rejects.toMatchObject({ code: 'UNKNOWN_ACCOUNT' });
    await expect(dispatchPhoneCommand(alice.phone, 'hold', ['x', 'yes'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(dispatchPhoneCommand(alice.phone, 'sendDtmf', ['x', '12<script>'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(dispatchPhoneCommand(alice.phone, 'shutdown', [])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('exports logged calls as JSON and pcap through PhoneApi, and checks export and history arguments', async () => {
    const alice = phone({ id: 'alice', user: 'alice' });
    const bob = phone({ id: 'bob', user: 'bob', answer: { kind: 'reject', status: 486 } });
    await alice.phone.register();
    await bob.phone.register();
    const call = await alice.phone.call({ target: 'bob' });
    await until(() => (lastCall(alice.events, call.id)?.state === 'terminated' ? true : undefined));
    const detail = await until(() => {
      const entry = log.getCall(call.id);
      return entry && entry.messages.some((m) => m.raw.startsWith('ACK ')) ? entry : undefined;
    });
    expect(detail).toMatchObject({ transport: 'udp', localAddress: '127.0.0.1', remoteSip: `${lab.servers.udp!.replace(/^sip:|;.*$/g, '')}` });

    const json = (await dispatchPhoneCommand(alice.phone, 'exportCalls', [[call.id], 'json'])) as Awaited<ReturnType<Phone['exportCalls']>>;
    expect(json).toMatchObject({ mimeType: 'application/json', encoding: 'utf8', calls: 1, messages: detail.messages.length });
    expect(json.fileName).toMatch(/^veilphone-[\w-]+\.json$/);
    expect(JSON.parse(json.data).calls[0].messages.map((m: { raw: string }) => m.raw)).toEqual(detail.messages.map((m) => m.raw));
    const pcap = await alice.phone.exportCalls([call.id], 'pcap');
    const bytes = Buffer.from(pcap.data, 'base64');
    expect(bytes.readUInt32LE(0)).toBe(0xa1b2c3d4);
    expect(bytes.includes(Buffer.from('SIP/2.0 486 Busy Here'))).toBe(true);
    await expect(alice.phone.exportCalls(['no-such-call'], 'json')).rejects.toMatchObject({ code: 'UNKNOWN_CALL' });
    await expect(dispatchPhoneCommand(alice.phone, 'exportCalls', [[call.id], 'txt'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(dispatchPhoneCommand(alice.phone, 'exportCalls', [[], 'json'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(dispatchPhoneCommand(alice.phone, 'exportCalls', [call.id, 'json'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });

    const busy = (await dispatchPhoneCommand(alice.phone, 'history', [{ result: ['busy', 'failed'], status: 486, number: 'bob' }])) as Awaited<ReturnType<Phone['history']>>;
    expect(busy.calls.map((c) => c.id)).toEqual([call.id]);
    await expect(dispatchPhoneCommand(alice.phone, 'history', [{ result: 'exploded' }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(dispatchPhoneCommand(alice.phone, 'history', [{ status: 99 }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
