import type { TraceMessage } from '../api/call-log-types.js';
import type { TraceSignature } from '../api/signature-types.js';
import { getParam, parseSipMessage, type SipMessage } from '../sip/message/index.js';
import { peerOf } from '../signing/canonical.js';
import type { KeySource } from '../signing/key-source.js';
import { verifySignatures } from '../signing/verifier.js';

const repeatNote = 'a Record-Route set a user agent repeated in a response to an in-dialog request: not the set the proxy signed (seed 002 ¶[0050])';

function parse(raw: string): SipMessage | undefined {
  try {
    return parseSipMessage(raw);
  } catch {
    return undefined;
  }
}

/**
 * The seed 002 signatures a traced message carries, decoded — and checked when the phone holds verification keys
 * (SPEC E: the diagnostics pane). A Via signature covers the next hop, which for a message this phone received or
 * answered is this phone's own socket (`local`). A message that does not parse carries no readable signature.
 * @param dialogResponse false for a response to an in-dialog request: its Record-Routes, if any, are a user
 *   agent's repetition (sip.js repeats them in 2xx to re-INVITEs), so their signatures are decoded, not judged
 */
export function traceSignatures(message: Pick<TraceMessage, 'raw' | 'transport' | 'local'>, keys: KeySource | undefined, now = Date.now(), dialogResponse = true): TraceSignature[] {
  if (!/vp-/i.test(message.raw)) return [];
  const parsed = parse(message.raw);
  if (!parsed) return [];
  const found = verifySignatures(parsed, { peer: peerOf(message.transport, message.local), now, ...(keys ? { keys } : {}) });
  if (dialogResponse || parsed.kind !== 'response') return found;
  return found.map((s) => (s.header === 'Record-Route' ? { ...s, verdict: undefined, note: repeatNote } : s));
}

/**
 * Every message of one call's trace with its signatures. The Record-Route set that matters is the one in responses
 * to the dialog-creating INVITE (RFC 3261 §12.1): those are found by their CSeq and direction.
 */
export function callTraceSignatures(messages: readonly TraceMessage[], keys: KeySource | undefined, now = Date.now()): TraceMessage[] {
  const creating = new Set<string>();
  for (const m of messages) {
    if (!m.raw.startsWith('INVITE ')) continue;
    const request = parse(m.raw);
    try {
      // Keyed by who answers it: each side numbers its own requests, so CSeq alone is ambiguous.
      if (request && getParam(request.to.params, 'tag') === undefined) creating.add(`${m.dir === 'in' ? 'out' : 'in'} ${request.cseq.seq} ${request.cseq.method}`);
    } catch {
      // A malformed INVITE in the trace (the tap records what arrives before it is checked, so anyone who knows
      // the Call-ID can put one there) creates no dialog; the rest of the trace still reads.
    }
  }
  return messages.map((m) => {
    let dialogResponse = true;
    if (m.raw.startsWith('SIP/')) {
      const cseq = /^(?:cseq)[ \t]*:[ \t]*(\d+)[ \t]+(\S+)/im.exec(m.raw);
      dialogResponse = cseq !== null && creating.has(`${m.dir} ${cseq[1]} ${cseq[2]}`);
    }
    return { ...m, signatures: traceSignatures(m, keys, now, dialogResponse) };
  });
}
