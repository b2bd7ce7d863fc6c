import type { CallEndCause, CallRedirect } from '../api/phone-types.js';

/**
 * A field the call log keeps as JSON text (`ports`, `redirects`, `endCause`), read back: a value that does not parse, or is not
 * the shape the field holds (a file written by hand, a half-restored backup), reads as absent. One odd row must not
 * keep the log from opening, listing or migrating.
 */
export function readStoredJson(field: 'ports' | 'redirects' | 'endCause', stored: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(stored);
  } catch {
    return undefined;
  }
  if (field === 'redirects') return readRedirects(value);
  if (field === 'endCause') return readEndCause(value);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
}

function readEndCause(value: unknown): CallEndCause | undefined {
  const cause = value as CallEndCause | null;
  if (typeof cause !== 'object' || cause === null) return undefined;
  if (cause.kind === 'session-expired') return { kind: 'session-expired' };
  return cause.kind === 'no-media' && Number.isInteger(cause.seconds) && cause.seconds > 0 ? { kind: 'no-media', seconds: cause.seconds } : undefined;
}

function readRedirects(value: unknown): CallRedirect[] | undefined {
  const isRedirect = (r: unknown): r is CallRedirect =>
    typeof r === 'object' && r !== null && typeof (r as CallRedirect).status === 'number' && typeof (r as CallRedirect).target === 'string' && ((r as CallRedirect).reason === undefined || typeof (r as CallRedirect).reason === 'string');
  return Array.isArray(value) && value.every(isRedirect) ? value : undefined;
}
