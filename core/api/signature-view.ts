import type { TraceMessage } from './call-log-types.js';

/**
 * One decoded routing-header signature of a traced message, as the diagnostics pane and `veilphone logs show` print
 * it (seed 002: Via, Record-Route and Route-set signatures). The decoding itself belongs to core/signing; a traced
 * message carries its results in an optional `signatures` field, which this reads without depending on its exact
 * type, so the views work before, and keep working after, the decoder fills it in.
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

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : typeof value === 'number' ? String(value) : undefined);

function pick(source: Record<string, unknown>, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = text(source[name]);
    if (value !== undefined) return value;
  }
  return undefined;
}

function coveredOf(source: Record<string, unknown>): string[] {
  const value = source.covered ?? source.covers ?? source.coverage;
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).filter((v) => v.length > 0);
  const one = text(value);
  return one === undefined ? [] : [one];
}

/** The decoded signatures a message carries (none when the decoder has not run or found none). */
export function traceSignatures(message: TraceMessage): SignatureView[] {
  const raw = (message as TraceMessage & { signatures?: unknown }).signatures;
  if (!Array.isArray(raw)) return [];
  const views: SignatureView[] = [];
  for (const item of raw) {
    if (typeof item !== 'object' || item === null) continue;
    const source = item as Record<string, unknown>;
    const view: SignatureView = { kind: pick(source, 'kind', 'type') ?? 'signature', covered: coveredOf(source) };
    const keyId = pick(source, 'keyId', 'kid', 'key');
    const algorithm = pick(source, 'algorithm', 'alg');
    const verdict = pick(source, 'verdict', 'status', 'result');
    const header = pick(source, 'header', 'where');
    const param = pick(source, 'param', 'parameter', 'name');
    if (keyId !== undefined) view.keyId = keyId;
    if (algorithm !== undefined) view.algorithm = algorithm;
    if (verdict !== undefined) view.verdict = verdict;
    if (header !== undefined) view.header = header;
    if (param !== undefined) view.param = param;
    views.push(view);
  }
  return views;
}

/** One line for a terminal: `via key k1 HMAC-SHA256 over Via ×2: valid`. */
export function describeSignature(view: SignatureView): string {
  const parts = [view.kind];
  if (view.keyId !== undefined) parts.push(`key ${view.keyId}`);
  if (view.algorithm !== undefined) parts.push(view.algorithm);
  if (view.covered.length > 0) parts.push(`over ${view.covered.join(', ')}`);
  return `${parts.join(' ')}: ${view.verdict ?? 'not verified'}`;
}
