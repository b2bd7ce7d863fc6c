/**
 * A phone process for the call-log durability test: the embedded lab and three phones in this one process, all
 * logging into the SQLite file given, placing calls one after another (answered, busy, anonymous through the
 * conversion server). After each call has ended on both legs, its trace is quiet and the log is flushed, it prints
 * the record it expects the file to hold — independently, from the phone's events and the SIP tap — as one JSON
 * line `{"event":"committed",...}`. The test kills it with SIGKILL at random moments.
 *
 *   node --import tsx test/support/call-log-crash-driver.ts FILE FIRST COUNT
 */
import type { CallResult } from '../../core/api/call-log-types.js';
import type { CallSnapshot, PhoneEvent } from '../../core/api/phone-types.js';
import { CallLogStore } from '../../core/calllog/call-log-store.js';
import { callResult } from '../../core/phone/call-result.js';
import { Phone } from '../../core/phone/phone.js';
import { rawCallId } from '../../core/phone/trace-router.js';
import type { SipTapEntry } from '../../core/sip/transport/message-tap.js';
import { Lab } from '../../lab/lab.js';
import { staticSdhFactory } from './static-sdh.js';
import { until } from './until.js';

/** How long the driver waits for each step (a loaded CI machine is slow to start two phones). */
const patience = 10_000;

export interface CommittedLeg {
  id: string;
  accountId: string;
  direction: 'outgoing' | 'incoming';
  sipCallId: string;
  result: CallResult;
  status?: number;
  messages: string[];
}

export type DriverLine = { event: 'ready'; pid: number } | { event: 'calling'; index: number } | { event: 'committed'; index: number; legs: CommittedLeg[] } | { event: 'done' };

const [file, firstText, countText] = process.argv.slice(2);
if (!file || !firstText || !countText) {
  console.error('usage: call-log-crash-driver FILE FIRST COUNT');
  process.exit(2);
}
const first = Number(firstText);
const count = Number(countText);
const say = (line: DriverLine): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

const log = CallLogStore.open(file, { retentionIntervalMs: 0 });
const lab = await Lab.start({ timers: { t1: 100, t2: 400 } });
const traces = new Map<string, SipTapEntry[]>();
let lastTraceAt = Date.now();
const events: Record<string, PhoneEvent[]> = { alice: [], bob: [], carol: [] };
const phones = Object.fromEntries(
  (['alice', 'bob', 'carol'] as const).map((user) => {
    const phone = new Phone({
      accounts: [{ id: user, user, server: lab.servers.udp!, transport: 'udp', domain: lab.domain, ...(user === 'bob' ? { answer: { kind: 'auto' as const } } : user === 'carol' ? { answer: { kind: 'reject' as const, status: 486 } } : {}) }],
      callLog: log,
      createSessionDescriptionHandlerFactory: () => staticSdhFactory(),
      timers: { t1: 100, t2: 400 },
      onTrace: (accountId, entry) => {
        const key = `${accountId} ${rawCallId(entry.raw)}`;
        traces.set(key, [...(traces.get(key) ?? []), entry]);
        lastTraceAt = Date.now();
      },
    });
    phone.subscribe((event) => events[user]!.push(event));
    return [user, phone];
  }),
) as Record<'alice' | 'bob' | 'carol', Phone>;


/** The call's last snapshot once it has ended (sip.js may report the final status after the state change). */
const finalSnapshot = (user: string, id: string): CallSnapshot | undefined => {
  const last = events[user]!.map((e) => (e.type === 'call' || e.type === 'incoming' ? e.call : undefined)).filter((c) => c?.id === id).at(-1);
  return last?.state === 'terminated' ? last : undefined;
};

/** The incoming calls a phone got, in order: a call it refuses at once (carol's 486) never rings, so it has call events only. */
const incomingLegs = (user: string): CallSnapshot[] => {
  const legs = new Map<string, CallSnapshot>();
  for (const e of events[user]!) if ((e.type === 'call' || e.type === 'incoming') && e.call.direction === 'incoming' && !legs.has(e.call.id)) legs.set(e.call.id, e.call);
  return [...legs.values()];
};

function leg(snapshot: CallSnapshot): CommittedLeg {
  return {
    id: snapshot.id,
    accountId: snapshot.accountId,
    direction: snapshot.direction,
    sipCallId: snapshot.sipCallId,
    result: callResult(snapshot),
    ...(snapshot.status !== undefined ? { status: snapshot.status } : {}),
    messages: (traces.get(`${snapshot.accountId} ${snapshot.sipCallId}`) ?? []).map((e) => e.raw),
  };
}

await Promise.all(Object.values(phones).map((p) => p.register()));
say({ event: 'ready', pid: process.pid });
for (let index = first; index < first + count; index++) {
  // Mostly answered calls; every fifth is refused busy, every fifth anonymous (184) through the conversion server.
  const callee = index % 5 === 3 ? 'carol' : 'bob';
  const target = index % 5 === 4 ? '184bob' : callee;
  const incomingBefore = incomingLegs(callee).length;
  const call = await phones.alice.call({ target });
  say({ event: 'calling', index });
  const incoming = await until(() => incomingLegs(callee)[incomingBefore], patience);
  if (callee === 'bob') {
    await until(() => (events.alice!.some((e) => e.type === 'call' && e.call.id === call.id && e.call.state === 'established') ? true : undefined), patience);
    await phones.alice.hangup(call.id);
  }
  await until(() => finalSnapshot('alice', call.id), patience);
  await until(() => finalSnapshot(callee, incoming.id), patience);
  // The dialog's last message has crossed each phone's socket: the 200 (BYE), or the ACK of the 486.
  const seen = (user: string, sipCallId: string, dir: 'in' | 'out', pattern: RegExp): true | undefined =>
    traces.get(`${user} ${sipCallId}`)?.some((e) => e.dir === dir && pattern.test(e.raw)) ? true : undefined;
  const alicesCallId = finalSnapshot('alice', call.id)!.sipCallId;
  const calleesCallId = finalSnapshot(callee, incoming.id)!.sipCallId;
  if (callee === 'bob') {
    await until(() => seen('alice', alicesCallId, 'in', /^SIP\/2\.0 200 [\s\S]*^CSeq:\s*\d+ BYE/im), patience);
    await until(() => seen('bob', calleesCallId, 'out', /^SIP\/2\.0 200 [\s\S]*^CSeq:\s*\d+ BYE/im), patience);
  } else {
    await until(() => seen('alice', alicesCallId, 'out', /^ACK /), patience);
    await until(() => seen('carol', calleesCallId, 'in', /^ACK /), patience);
  }
  await until(() => (Date.now() - lastTraceAt >= 20 ? true : undefined), patience);
  log.flush();
  say({ event: 'committed', index, legs: [leg(finalSnapshot('alice', call.id)!), leg(finalSnapshot(callee, incoming.id)!)] });
}
await Promise.all(Object.values(phones).map((p) => p.shutdown()));
await lab.stop();
log.close();
say({ event: 'done' });
process.exit(0);
