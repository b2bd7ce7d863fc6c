import type { CallSnapshot } from '../../core/api/phone-types.js';

/** What the phone plays by itself: the ringtone, the ringback while the far end rings, or the call-waiting beep. */
export type CallTone = 'ring' | 'ringback' | 'waiting';

/**
 * The tone the calls ask for now. An incoming call rings (on the ringer device) unless another call is going on: then
 * it gets the call-waiting beep on the call's own device instead. An outgoing call whose far end rings without early
 * media (`playsEarlyMedia`) hears a local ringback. Nothing plays once a call is answered,
 * rejected, cancelled or answered elsewhere: each of those takes it out of `incoming` or `ringing`.
 */
export function callTone(calls: readonly CallSnapshot[]): CallTone | undefined {
  const incoming = calls.filter((c) => c.state === 'incoming');
  const others = calls.filter((c) => c.state !== 'incoming' && c.state !== 'terminated');
  if (incoming.length > 0) return others.length > 0 ? 'waiting' : 'ring';
  const ringing = others.find((c) => c.direction === 'outgoing' && c.state === 'ringing');
  if (ringing && !playsEarlyMedia(ringing)) return 'ringback';
  return undefined;
}

/**
 * The far end plays its own ringback or announcement before the answer (early media, RFC 3960 §3.2), so no local
 * ringback plays: the snapshot's `earlyMedia` flag where the core sets it (issue 19 item 5), else audio already
 * arriving on the call's stream.
 */
export function playsEarlyMedia(call: CallSnapshot & { earlyMedia?: true }): boolean {
  return call.earlyMedia === true || call.media?.receiving === true;
}
