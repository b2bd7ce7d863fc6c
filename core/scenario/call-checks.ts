import type { CallSnapshot } from '../api/phone-types.js';
import type { SignatureVerdict, TraceSignature } from '../api/signature-types.js';
import { getParam, parseSipMessage, type SipMessage } from '../sip/message/index.js';
import type { SipTapEntry } from '../sip/transport/message-tap.js';

/** `signatures:` of an expectation: a verdict per family (`route_set` is either route-set kind). */
export type SignatureExpectation = Partial<Record<'via' | 'record_route' | 'route_set', SignatureVerdict>>;

const families: Record<keyof SignatureExpectation, (s: TraceSignature) => boolean> = {
  via: (s) => s.kind === 'via',
  record_route: (s) => s.kind === 'record-route',
  route_set: (s) => s.kind === 'route-set-callee' || s.kind === 'route-set-caller',
};

/**
 * Why the signatures found in a leg's messages do not meet the expectation, or undefined when they do. `valid`: at
 * least one was checked and every checked one is valid; `missing`: none at all; any other verdict: at least one has
 * it. Signatures the phone could not check (an echo of the callee's route set in a response) count for nothing.
 */
export function signatureMismatch(found: ReadonlyArray<{ signature: TraceSignature; where: string }>, wanted: SignatureExpectation): string | undefined {
  const problems: string[] = [];
  for (const [family, verdict] of Object.entries(wanted) as Array<[keyof SignatureExpectation, SignatureVerdict]>) {
    const inFamily = found.filter((f) => families[family](f.signature));
    const all = inFamily.map((f) => f.signature);
    const checked = all.filter((s) => s.verdict !== undefined);
    const tally = (): string => {
      const counts = new Map<string, number>();
      for (const s of all) counts.set(s.verdict ?? 'unchecked', (counts.get(s.verdict ?? 'unchecked') ?? 0) + 1);
      return counts.size === 0 ? 'none found' : [...counts].map(([v, n]) => `${n} ${v}`).join(', ');
    };
    if (verdict === 'missing') {
      if (all.length > 0) problems.push(`${family}: expected none, ${tally()}`);
    } else if (verdict === 'valid') {
      const bad = inFamily.filter((f) => f.signature.verdict !== undefined && f.signature.verdict !== 'valid');
      const first = bad[0];
      if (checked.length === 0 || first) problems.push(`${family}: ${tally()}${first ? ` (${first.signature.verdict} in ${first.where}${first.signature.note ? `: ${first.signature.note}` : ''})` : ''}`);
    } else if (!checked.some((s) => s.verdict === verdict)) {
      problems.push(`${family}: none ${verdict}, ${tally()}`);
    }
  }
  return problems.length > 0 ? problems.join('; ') : undefined;
}

export interface LegView {
  /** The agent's name, for the reason. */
  name: string;
  snapshot: CallSnapshot;
  /** Everything the leg's agent sent and received (all its calls). */
  trace: Iterable<SipTapEntry>;
}

interface TracedRequest {
  method: string;
  seq: number;
  inDialog: boolean;
}

function requestsOf(trace: Iterable<SipTapEntry>, dir: 'in' | 'out', callId: string): { requests: TracedRequest[]; answered: Set<number> } {
  const requests: TracedRequest[] = [];
  const answered = new Set<number>();
  for (const entry of trace) {
    if (!entry.raw.includes(callId)) continue;
    let message: SipMessage;
    try {
      message = parseSipMessage(entry.raw);
    } catch {
      continue;
    }
    if (message.callId !== callId) continue;
    const { seq, method } = message.cseq;
    if (message.kind === 'response') {
      if (entry.dir !== dir && method === 'INVITE' && message.status >= 200 && message.status < 300) answered.add(seq);
      continue;
    }
    if (entry.dir !== dir) continue;
    requests.push({ method: message.method, seq, inDialog: getParam(message.to.params, 'tag') !== undefined });
  }
  return { requests, answered };
}

/**
 * Why the BYE a leg sent did not end the call cleanly, or undefined: the peer refused it (a 481: it knew no such call;
 * a digest challenge followed by the BYE with credentials is no refusal), or it went unanswered past its first retransmission (T1; a peer that never answers is given up after 64·T1, RFC 3261
 * §17.1.2.2). SIPp counts either as a failed call.
 */
function byeProblem(leg: LegView): string | undefined {
  const callId = leg.snapshot.sipCallId;
  const sends = new Map<number, number>();
  const answers = new Map<number, { status: number; reason: string }>();
  for (const entry of leg.trace) {
    if (!entry.raw.includes(callId) || !/^(BYE |SIP\/2\.0 )/.test(entry.raw)) continue;
    let message: SipMessage;
    try {
      message = parseSipMessage(entry.raw);
    } catch {
      continue;
    }
    if (message.callId !== callId || message.cseq.method !== 'BYE') continue;
    if (message.kind === 'request' && entry.dir === 'out') sends.set(message.cseq.seq, (sends.get(message.cseq.seq) ?? 0) + 1);
    if (message.kind === 'response' && entry.dir === 'in' && message.status >= 200) answers.set(message.cseq.seq, { status: message.status, reason: message.reason });
  }
  for (const [seq, times] of sends) {
    const answer = answers.get(seq);
    // a challenge (401/407) is answered by the same BYE again with credentials, at a higher CSeq: that one counts
    if (answer && (answer.status === 401 || answer.status === 407) && [...sends.keys()].some((later) => later > seq)) continue;
    if (answer && answer.status >= 300) return `its BYE (CSeq ${seq}) was refused: ${answer.status} ${answer.reason}`.trimEnd();
    if (!answer && times > 1) return `its BYE (CSeq ${seq}) got no answer (sent ${times} times)`;
  }
  return undefined;
}

/**
 * Why a call failed, from one leg's point of view, or undefined when it worked: the leg ended unanswered, is still
 * not established, its BYE was refused or went unanswered (byeProblem), or an in-dialog request either leg sent never
 * arrived at the other (a 2xx's ACK included; the ACK of a refused re-INVITE stays with the first proxy, RFC 3261
 * §17.1.1.3, so it is not looked for).
 */
export function callFailure(leg: LegView | undefined, other: LegView | undefined): string | undefined {
  if (!leg) return 'that leg never appeared';
  const snap = leg.snapshot;
  if (snap.answeredAt === undefined) {
    return snap.state === 'terminated'
      ? `it ended unanswered${snap.status !== undefined ? ` with ${snap.status} ${snap.reason ?? ''}`.trimEnd() : ''}`
      : `it was never established (it is ${snap.state})`;
  }
  const bye = byeProblem(leg);
  if (bye) return bye;
  if (!other) return undefined;
  for (const [from, to] of [
    [leg, other],
    [other, leg],
  ] as const) {
    const sent = requestsOf(from.trace, 'out', from.snapshot.sipCallId);
    const arrived = requestsOf(to.trace, 'in', to.snapshot.sipCallId).requests;
    for (const request of sent.requests) {
      if (!request.inDialog) continue;
      if (request.method === 'ACK' && !sent.answered.has(request.seq)) continue;
      if (!arrived.some((r) => r.method === request.method && r.seq === request.seq)) {
        return `${request.method} (CSeq ${request.seq}) from ${from.name} never reached ${to.name}`;
      }
    }
  }
  return undefined;
}
