import type { TraceMessage } from '../api/call-log-types.js';
import type { TraceSignature } from '../api/signature-types.js';
import { parseSipMessage } from '../sip/message/index.js';
import { peerOf } from '../signing/canonical.js';
import type { KeySource } from '../signing/key-source.js';
import { verifySignatures } from '../signing/verifier.js';

/**
 * The seed 002 signatures a traced message carries, decoded — and checked when the phone holds verification keys
 * (SPEC E: the diagnostics pane). A Via signature covers the next hop, which for a message this phone received or
 * answered is this phone's own socket (`local`). A message that does not parse carries no readable signature.
 */
export function traceSignatures(message: Pick<TraceMessage, 'raw' | 'transport' | 'local'>, keys: KeySource | undefined, now = Date.now()): TraceSignature[] {
  if (!/vp-/i.test(message.raw)) return [];
  let parsed;
  try {
    parsed = parseSipMessage(message.raw);
  } catch {
    return [];
  }
  return verifySignatures(parsed, { peer: peerOf(message.transport, message.local), now, ...(keys ? { keys } : {}) });
}
