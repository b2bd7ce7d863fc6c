import { addressTag, createResponse, randomToken, splitOutsideQuotes, type SipRequest, type SipResponse } from '../message/index.js';

/** What this user agent can do, as it answers for it (RFC 3261 §8.2). */
export interface UasPolicy {
  /** The methods it acts on: its Allow header field (§20.5). */
  allow: readonly string[];
  /** Methods it takes within a dialog only, without offering them in Allow (a request outside one gets 405). */
  takenInDialog?: readonly string[];
  /** The option tags it supports (§19.2); read each time, the UserAgent knows them only once it exists. */
  supported: () => readonly string[];
  /** Body types it takes in (and answers with) an INVITE. */
  sessionTypes: readonly string[];
}

/**
 * The methods a Veilphone identity acts on: calls, their DTMF (INFO), OPTIONS, PRACK for reliable provisional
 * responses (RFC 3262 §3, reliable-provisional.ts) and transfer (REFER, RFC 3515, and the NOTIFYs reporting on one). A phone is no registrar.
 */
export const phoneUasPolicy: UasPolicy = {
  allow: ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO', 'PRACK', 'REFER', 'NOTIFY'],
  // A session refresh by UPDATE (RFC 4028 §7.4 with RFC 3311) from a peer that ignores our Allow (Linphone 5): taken in
  // a call so the call does not drop; not offered, as an UPDATE changing the session (an SDP offer) is refused 488.
  takenInDialog: ['UPDATE'],
  supported: () => [],
  sessionTypes: ['application/sdp'],
};

/** RFC 3261's methods and its extensions': one of these we do not take is a 405, anything else a 501. */
const knownMethods = new Set(['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', 'INFO', 'PRACK', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'PUBLISH']);

/**
 * The UAS checks of RFC 3261 §8.2 that sip.js 0.21 gets wrong or leaves out, made before a request reaches it: the
 * answer to send instead, or undefined to let sip.js have it.
 * - §8.2.1: a method we do not take gets 405 with a true Allow (sip.js lists REGISTER, MESSAGE, SUBSCRIBE... and then
 *   answers REGISTER 404), an unknown one 501 (sip.js: 405; RFC 4475 §3.1.1.2, §3.1.1.5);
 * - §8.2.2.3: an option tag in Require we do not support gets 420 with Unsupported (sip.js leaves it unhandled; RFC 4475
 *   §3.3.5); never for ACK or CANCEL, where Require is ignored;
 * - §8.2.3: an INVITE whose body we cannot read gets 415 with Accept (RFC 4475 §3.3.6); one whose Accept leaves out
 *   every type we could answer with gets 406 (§21.4.7, RFC 4475 §3.3.15).
 */
export function screenUasRequest(request: SipRequest, policy: UasPolicy): SipResponse | undefined {
  const method = request.method;
  if (method === 'ACK') return undefined;
  const inDialog = addressTag(request.get('to') ?? '') !== undefined; // the To's own tag, not one of its URI (as sip.js reads it)
  if (!policy.allow.includes(method) && !(inDialog && policy.takenInDialog?.includes(method))) {
    const reply = createResponse(request, knownMethods.has(method) ? 405 : 501, undefined, randomToken(10));
    reply.set('allow', policy.allow.join(', '));
    return reply;
  }
  // RFC 3515 §2.4.2 lets a REFER come outside a dialog; a phone takes it only within a call (transfer), so one outside
  // is refused as such, rather than with sip.js's 405, which would contradict the Allow that lists REFER.
  if (method === 'REFER' && !inDialog) {
    return createResponse(request, 403, 'Forbidden (REFER only within a call)', randomToken(10));
  }
  // An INFO belongs to an INVITE dialog usage and is never sent outside one (RFC 6086 §1): one outside names no call of
  // ours (§12.2.2's 481), where sip.js answered 405 without the Allow §21.4.6 requires, and contradicting ours (INFO).
  if (method === 'INFO' && !inDialog) {
    return createResponse(request, 481, 'Call/Transaction Does Not Exist (INFO only within a call)', randomToken(10));
  }
  if (method !== 'CANCEL') {
    const supported = new Set(policy.supported().map((tag) => tag.toLowerCase()));
    const unsupported = request.getAll('require').filter((tag) => !supported.has(tag.toLowerCase()));
    if (unsupported.length > 0) {
      const reply = createResponse(request, 420, undefined, randomToken(10));
      reply.set('unsupported', unsupported.join(', '));
      return reply;
    }
  }
  if (method === 'INVITE') {
    const type = mediaType(request.get('content-type'));
    if (request.body.length > 0 && (type === undefined || !policy.sessionTypes.includes(type))) {
      const reply = createResponse(request, 415, undefined, randomToken(10));
      reply.set('accept', policy.sessionTypes.join(', '));
      return reply;
    }
    const accept = request.get('accept');
    if (accept !== undefined && !policy.sessionTypes.some((t) => acceptable(accept, t))) {
      const reply = createResponse(request, 406, undefined, randomToken(10));
      reply.set('accept', policy.sessionTypes.join(', '));
      return reply;
    }
  }
  return undefined;
}

/** `application/sdp` of `Application/SDP; charset=x`. */
function mediaType(value: string | undefined): string | undefined {
  const type = value?.split(';')[0]?.trim().toLowerCase();
  return type ? type : undefined;
}

/** Whether an Accept header field value (§20.1) admits `type`, wildcards included. An empty Accept admits nothing. */
function acceptable(accept: string, type: string): boolean {
  const [major] = type.split('/');
  return splitOutsideQuotes(accept, ',').some((range) => {
    const name = mediaType(range);
    return name === type || name === `${major}/*` || name === '*/*';
  });
}
