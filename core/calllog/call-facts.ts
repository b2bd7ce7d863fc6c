import type { CallLogEntry } from '../api/call-log-types.js';

const iso = (at: number | undefined): string | undefined => (at === undefined ? undefined : new Date(at).toISOString());

/** `answered (200 OK), ended by remote`; `…, ended by network: no audio from the far end for 30 s`. */
export function resultText(call: CallLogEntry): string {
  const status = call.status !== undefined ? ` (${`${call.status} ${call.reason ?? ''}`.trim()})` : '';
  return `${call.result}${status}${call.endedBy ? `, ended by ${call.endedBy}` : ''}${call.endCause ? `: ${endCauseText(call.endCause)}` : ''}`;
}

/** Why the phone ended the call by itself, in the log's words. */
function endCauseText(cause: NonNullable<CallLogEntry['endCause']>): string {
  return cause.kind === 'no-media' ? `no audio from the far end for ${cause.seconds} s` : 'the session expired (no refresh, RFC 4028)';
}

/** `1m 05s`, or `0s` for an unanswered call. */
export function durationText(call: CallLogEntry): string | undefined {
  if (call.durationMs === undefined) return undefined;
  const seconds = Math.round(call.durationMs / 1000);
  return seconds >= 60 ? `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`;
}

/**
 * Everything the log knows about a call as labelled lines, in the order support staff read them: who, what was
 * really sent, how it was hidden, what addresses and ports it used, when, and how it ended. Unknown facts are left
 * out.
 */
export function callFacts(call: CallLogEntry): Array<[string, string]> {
  const facts: Array<[string, string | undefined]> = [
    ['call', call.id],
    ['Call-ID', call.sipCallId],
    ['account', call.accountId],
    ['direction', call.direction],
    ['party (shown)', call.remoteAnonymous ? `${call.remoteShown} (anonymous)` : call.remoteShown],
    ['party (URI)', call.remoteUri],
    ['dialled', call.dialed],
    ['sent as From', call.sentFrom],
    ['sent as To', call.sentTo],
    ['sent to', call.sentRequestUri],
    ['redirected', call.redirects?.map((r) => `${r.status}${r.reason ? ` ${r.reason}` : ''} → ${r.target}`).join('; ')],
    ['anonymity', call.anonymity],
    ['local address', call.localAddress],
    ['SIP socket', call.localSip !== undefined ? `${call.localSip}${call.transport ? ` (${call.transport.toUpperCase()})` : ''}` : undefined],
    ['SIP peer', call.remoteSip],
    ['RTP local', call.localRtp],
    ['RTP remote', call.remoteRtp],
    ['codec', call.codec],
    ['signalling encryption', call.signalingTls ?? (call.transport !== undefined ? 'none' : undefined)],
    ['media encryption', call.mediaEncryption],
    ['ports', call.ports ? `${call.ports.min}-${call.ports.max}` : undefined],
    ['lease', call.lease],
    ['started', iso(call.startedAt)],
    ['answered', iso(call.answeredAt)],
    ['ended', iso(call.endedAt)],
    ['duration', call.answeredAt !== undefined ? durationText(call) : undefined],
    ['result', resultText(call)],
  ];
  return facts.filter((fact): fact is [string, string] => fact[1] !== undefined);
}
