import type { TraceMessage } from './call-log-types.js';

/**
 * One decoded routing-header signature of a traced message, as the diagnostics pane and `veilphone logs show` print
 * it (seed 002: Via, Record-Route and Route-set signatures). The decoding itself belongs to core/signing; a traced
 * message carries its results (TraceSignature) in its optional `signatures` field when the phone decoded it.
 */
export interface SignatureView {
  /** `via`, `record-route`, `route-set` (callee/caller) … */
  kind: string;
  keyId?: string;
  algorithm?: string;
  /** What the signature covers, in words (`Via ×2`, `Record-Route URIs`, `first Contact`). */
  covered: string[];
  /** `valid`, `invalid`, `unknown-key`, `expired`, `missing`; absent without the verification key. */
  verdict?: string;
  /** The header (and parameter) that carries it, when the decoder says. */
  header?: string;
  param?: string;
}

/** The decoded signatures a message carries (none when the decoder has not run or found none). */
export function traceSignatures(message: TraceMessage): SignatureView[] {
  return (message.signatures ?? []).map((signature) => {
    const view: SignatureView = {
      kind: signature.kind,
      keyId: signature.keyId,
      algorithm: signature.algorithm,
      covered: signature.covers.map((c) => `${c.item} ${c.value}`),
      header: `${signature.header}[${signature.index}]`,
      param: signature.placement === 'uri-param' ? 'vp-rs' : 'vp-sig', // docs/signing.md: URI or header parameter
    };
    if (signature.verdict !== undefined) view.verdict = signature.verdict;
    return view;
  });
}

/** One line for a terminal: `via key k1 HMAC-SHA256 over Via ×2: valid`. */
export function describeSignature(view: SignatureView): string {
  const parts = [view.kind];
  if (view.keyId !== undefined) parts.push(`key ${view.keyId}`);
  if (view.algorithm !== undefined) parts.push(view.algorithm);
  if (view.covered.length > 0) parts.push(`over ${view.covered.join(', ')}`);
  return `${parts.join(' ')}: ${view.verdict ?? 'not verified'}`;
}
