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
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
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
  503: 'Service Unavailable',
  603: 'Decline',
};

/**
 * A response to `request` (RFC 3261 §8.2.6.2): Via, From, To, Call-ID and CSeq copied in order; a To tag added
 * when the request had none and the response is not 100 Trying.
 */
export function createResponse(request: SipRequest, status: number, reason?: string, toTag?: string): SipResponse {
  const copied = new Set(['via', 'from', 'to', 'call-id', 'cseq']);
  const headers = request.headers.filter((h) => copied.has(normalizeHeaderName(h.name))).map((h) => ({ ...h }));
  const response = new SipResponse(status, reason ?? reasonPhrases[status] ?? 'Unknown', headers, '');
  if (status > 100 && toTag !== undefined) {
    const to = response.get('to') ?? '';
    if (!/;\s*tag=/i.test(to)) response.set('to', `${to};tag=${toTag}`);
  }
  return response;
}

/** Whether a request carries what a response needs, so a malformed one can still get a 400. */
export function canRespondTo(request: SipRequest): boolean {
  return ['via', 'from', 'to', 'call-id', 'cseq'].every((name) => request.has(name));
}
