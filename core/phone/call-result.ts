import type { CallResult } from '../api/call-log-types.js';
import type { CallSnapshot } from '../api/phone-types.js';

/** The history word for a call, from its direction, final status and who ended it. */
export function callResult(call: CallSnapshot): CallResult {
  if (call.state !== 'terminated') return 'in-progress';
  // sent on by a 302, or handed to the target the phone called for it (answered only to be transferred): forwarded
  if (call.forwardedTo !== undefined) return 'forwarded';
  if (call.answeredAt !== undefined) return 'answered';
  const status = call.status ?? 0;
  if (call.direction === 'incoming') {
    if (call.endedBy === 'local' && status >= 300) return 'rejected';
    // RFC 3326: another phone of the forked call (a ring-all of the room, seed 001 ¶[57]) took it
    if (call.answeredElsewhere) return 'answered-elsewhere';
    return 'missed';
  }
  if (status === 487 || (call.endedBy === 'local' && status < 200)) return 'cancelled';
  if (status === 486 || status === 600) return 'busy';
  if (status === 603) return 'rejected';
  return 'failed';
}
