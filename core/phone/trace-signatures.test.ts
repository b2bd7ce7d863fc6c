import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import type { TraceMessage } from '../api/call-log-types.js';
import type { CallSnapshot, PhoneEvent } from '../api/phone-types.js';
import { CallLogStore } from '../calllog/call-log-store.js';
import { VerificationKeys, type VerificationKeyFile } from '../signing/key-ring.js';
import { Phone } from './phone.js';
import { callTraceSignatures, traceSignatures } from './trace-signatures.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { until } from '../../test/support/until.js';

const timers = { t1: 100, t2: 400 };
const network = new MemoryNetwork();

describe('signatures in the call detail (SPEC E, the diagnostics pane)', () => {
  let lab: Lab;
  let log: CallLogStore;
  const phones: Phone[] = [];

  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.shutdown()));
    await lab.stop();
    log.close();
  });

  async function setUp(keys: (() => VerificationKeyFile[]) | undefined): Promise<{ alice: Phone; bob: Phone; aliceEvents: PhoneEvent[]; bobEvents: PhoneEvent[] }> {
    lab = await Lab.start({ users: { alice: {}, bob: {} }, timers, signing: true, sockets: network });
    log = CallLogStore.open(':memory:');
    const make = (user: string, transport: 'udp' | 'tcp'): { phone: Phone; events: PhoneEvent[] } => {
      const events: PhoneEvent[] = [];
      const phone = new Phone({
        accounts: [{ id: user, user, server: lab.servers[transport]!, transport, domain: lab.domain, answer: { kind: 'auto' } }],
        callLog: log,
        createSessionDescriptionHandlerFactory: () => staticSdhFactory(),
        timers,
        sockets: network,
        ...(keys ? { signatureKeys: keys } : {}),
      });
      phone.subscribe((e) => events.push(e));
      phones.push(phone);
      return { phone, events };
    };
    const alice = make('alice', 'udp');
    const bob = make('bob', 'tcp');
    await alice.phone.register();
    await bob.phone.register();
    return { alice: alice.phone, bob: bob.phone, aliceEvents: alice.events, bobEvents: bob.events };
  }

  const lastCall = (events: PhoneEvent[], id: string): CallSnapshot | undefined =>
    events.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === id).at(-1)?.call;


  async function callAndHangUp(alice: Phone, bob: Phone, aliceEvents: PhoneEvent[], bobEvents: PhoneEvent[]): Promise<{ callerLeg: string; calleeLeg: string }> {
    const call = await alice.call({ target: 'bob' });
    await until(() => (lastCall(aliceEvents, call.id)?.state === 'established' ? true : undefined));
    const incoming = bobEvents.find((e): e is Extract<PhoneEvent, { type: 'incoming' }> => e.type === 'incoming')!;
    const received = (leg: string, start: RegExp): boolean => log.getCall(leg)?.messages.some((m) => m.dir === 'in' && start.test(m.raw)) === true;
    await until(() => received(incoming.call.id, /^ACK /)); // the ACK has arrived
    await bob.hangup(incoming.call.id);
    await until(() => (lastCall(aliceEvents, call.id)?.state === 'terminated' ? true : undefined));
    await until(() => received(incoming.call.id, /^SIP\/2\.0 200 [^]*\r\nCSeq: *\d+ BYE\r\n/i)); // the 200 to the BYE
    return { callerLeg: call.id, calleeLeg: incoming.call.id };
  }

  const summary = (messages: TraceMessage[]): string[] =>
    messages.flatMap((m) => (m.signatures ?? []).map((s) => `${m.dir} ${m.raw.split(' ')[0]}${m.raw.startsWith('SIP/') ? ` ${m.raw.split(' ')[1]}` : ''}: ${s.kind}@${s.header}=${s.verdict ?? 'unchecked'}`));

  it('decodes every signature of every message and, with the lab\'s keys, checks each one', async () => {
    const { alice, bob, aliceEvents, bobEvents } = await setUp(() => lab.verificationKeys());
    const { callerLeg, calleeLeg } = await callAndHangUp(alice, bob, aliceEvents, bobEvents);
    const atBob = (await bob.callDetail(calleeLeg))!;
    expect(atBob.messages.every((m) => Array.isArray(m.signatures))).toBe(true);
    const bobSeen = summary(atBob.messages);
    expect(bobSeen).toEqual(
      expect.arrayContaining([
        'in INVITE: via@Via=valid',
        'in INVITE: record-route@Record-Route=valid',
        'in INVITE: route-set-callee@Record-Route=valid',
        'out SIP/2.0 200: via@Via=valid',
        'out SIP/2.0 200: route-set-callee@Record-Route=unchecked', // an echo: checked when Bob uses his route set
        'out BYE: route-set-callee@Route=valid',
      ]),
    );
    expect(bobSeen.filter((s) => /=(invalid|unknown-key|expired)$/.test(s))).toEqual([]);
    const atAlice = summary((await alice.callDetail(callerLeg))!.messages);
    expect(atAlice).toEqual(expect.arrayContaining(['in SIP/2.0 200: route-set-caller@Record-Route=valid', 'out ACK: route-set-caller@Route=valid', 'in BYE: via@Via=valid']));
    expect(atAlice.filter((s) => /=(invalid|unknown-key|expired)$/.test(s))).toEqual([]);
    const invite = atBob.messages.find((m) => m.dir === 'in' && m.raw.startsWith('INVITE'))!;
    const via = invite.signatures!.find((s) => s.kind === 'via')!;
    expect(via).toMatchObject({ header: 'Via', placement: 'header-param', version: 1, algorithm: 'hs128', keyId: expect.stringMatching(/^[\w-]{8}$/) });
    expect(via.covers.map((c) => c.item)).toEqual(['Via', 'Call-ID', 'From-Tag', 'Peer', 'CSeq', 'To-URI']);
    expect(via.covers.find((c) => c.item === 'Peer')!.value).toBe(`tcp:${invite.local}`);
    expect(invite.raw).not.toContain('"verdict"'); // the stored trace stays raw
  });

  it('without keys, decodes the signatures and gives no verdict; with keys that do not match, says so', async () => {
    const { alice, bob, aliceEvents, bobEvents } = await setUp(undefined);
    const { calleeLeg } = await callAndHangUp(alice, bob, aliceEvents, bobEvents);
    const messages = (await bob.callDetail(calleeLeg))!.messages;
    const all = messages.flatMap((m) => m.signatures ?? []);
    expect(all.length).toBeGreaterThanOrEqual(5);
    expect(all.every((s) => s.verdict === undefined && s.covers.length + (s.note ? 1 : 0) > 0)).toBe(true);

    const invite = messages.find((m) => m.dir === 'in' && m.raw.startsWith('INVITE'))!;
    const otherLab = await Lab.start({ signing: true, sockets: network });
    try {
      const strangers = traceSignatures(invite, new VerificationKeys(otherLab.verificationKeys()));
      expect(strangers.map((s) => s.verdict)).toEqual(['unknown-key', 'unknown-key', 'unknown-key']);
    } finally {
      await otherLab.stop();
    }
    // A malformed INVITE injected into this call's trace (anyone who knows the Call-ID can: the tap records what
    // arrives before it is checked) does not stop the diagnostics from reading every other message's signatures.
    const injected = { ...invite, raw: invite.raw.replace(/^CSeq: .*$/m, 'CSeq: x') };
    const read = callTraceSignatures([injected, ...messages], undefined);
    expect(read.slice(1).flatMap((m) => m.signatures ?? [])).toEqual(all);

    const forged = { ...invite, raw: invite.raw.replace(/(Via: SIP\/2\.0\/TCP [^\r]*\r\nVia: SIP\/2\.0\/UDP 127\.0\.0\.1:)(\d+)/, (_m, head: string, port: string) => `${head}${Number(port) + 1}`) };
    expect(forged.raw).not.toBe(invite.raw);
    expect(traceSignatures(forged, new VerificationKeys(lab.verificationKeys())).find((s) => s.kind === 'via')?.verdict).toBe('invalid');
    expect(traceSignatures({ raw: 'not SIP vp-sig', transport: 'udp', local: '127.0.0.1:1' }, undefined)).toEqual([]);
  });
});
