import { normalizeHeaderName } from './header-names.js';
import { SipResponse, type SipRequest } from './sip-message.js';

/** RFC 3261 §21 reason phrases for the statuses Veilphone itself generates. */
export const reasonPhrases: Record<number, string> = {
  100: 'Trying',
  180: 'Ringing',
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme',
  420: 'Bad Extension',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  483: 'Too Many Hops',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'Version Not Supported',
  603: 'Decline',
};

/**
 * A response to `request` (RFC 3261 §8.2.6.2): Via, From, To, Call-ID and CSeq copied in order; a To tag added
 * when the request had none and the response is not 100 Trying.
 */
export function createResponse(request: SipRequest, status: number, reason?: string, toTag?: string): SipResponse {
  const copied = new Set(['via', 'from', 'to', 'call-id', 'cseq']);
  const seen = new Set<string>();
  // A request with two of a single-valued header (RFC 4475 §3.3.8) is answered with the first of each.
  const headers = request.headers
    .filter((h) => {
      const name = normalizeHeaderName(h.name);
      if (!copied.has(name) || (name !== 'via' && seen.has(name))) return false;
      seen.add(name);
      return true;
    })
    .map((h) => ({ ...h }));
  const response = new SipResponse(status, grammaticalReason(reason ?? reasonPhrases[status] ?? 'Unknown'), headers, '');
  if (status > 100 && toTag !== undefined) {
    const to = response.get('to') ?? '';
    if (!/;\s*tag=/i.test(to)) response.set('to', `${to};tag=${toTag}`);
  }
  return response;
}

/**
 * A reason phrase as RFC 3261 §25.1's Reason-Phrase allows it (reserved, unreserved, escaped, UTF-8, space, tab):
 * what we explain in one (a host, a parse error quoting `<uri>`) has its `[ ] < > " { } | \ ^ \`` and controls made
 * plain, since stacks that parse strictly (sip.js's grammar) drop a response whose phrase has them.
 */
export function grammaticalReason(text: string): string {
  return text
    .replace(/[[<{]/g, '(')
    .replace(/[\]>}]/g, ')')
    .replace(/["`]/g, "'")
    .replace(/[|\\^#]/g, '/')
    .replace(/%(?![0-9A-Fa-f]{2})/g, ' percent')
    // eslint-disable-next-line no-control-regex
    .replace(/[\x00-\x08\x0a-\x1f\x7f]/g, ' ');
}

/**
 * Whether a malformed request can still be answered: a Via to send the response along and a CSeq to match it with
 * (RFC 3261 §18.2.2, §17.1.3). From, To and Call-ID are copied when present; a request missing them gets its 400 all
 * the same (RFC 4475 §3.3.1).
 */
export function canRespondTo(request: SipRequest): boolean {
  return request.has('via') && request.has('cseq');
}
