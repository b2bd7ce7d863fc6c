import fs from 'node:fs';
import path from 'node:path';

/**
 * What an element must do with one RFC 4475 message.
 * - `status`: answer with this final status (and these header values, when given);
 * - `forwarded`: a proxy sends it on to the next hop, and the sender gets that hop's answer;
 * - `dropped`: no answer at all: a response that matches nothing, or one too broken to act on (counted);
 * - `closed`: on a stream only: no answer, and the element closes the connection, the framing being lost.
 */
export type TortureAnswer =
  | { status: number; headers?: Record<string, string> }
  | { forwarded: true }
  | { dropped: true }
  | { closed: true };

export interface TortureCase {
  /** The message's name in RFC 4475 and its fixture file, `test/fixtures/rfc4475/<name>.sip`. */
  name: string;
  section: string;
  title: string;
  proxy: TortureAnswer;
  ua: TortureAnswer;
  /** When a stream (TCP) changes the answer (framing is by Content-Length there, RFC 3261 §18.3). */
  stream?: TortureAnswer;
  /** On a stream, what follows the message is no message: the connection is of no further use after it. */
  spoilsStream?: true;
  /** The RFC's words behind the answers. */
  why: string;
}

/** The methods the phone acts on, its Allow header field (RFC 3261 §20.5); REGISTER is not one: a phone is no registrar. */
export const phoneAllow = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, PRACK, REFER, NOTIFY';

/** An OPTIONS the phone takes: 200 with the same true Allow (RFC 3261 §11.2). */
const optionsOk = { status: 200, headers: { allow: phoneAllow } } as const;
const forwarded = { forwarded: true } as const;
const dropped = { dropped: true } as const;
const closed = { closed: true } as const;
const bad = { status: 400 } as const;
/**
 * The RFC's session descriptions carry `a=rtpmap:31 LPC`, an rtpmap without its clock rate (RFC 4566 §6): the phone's
 * call logic turns such an offer down with 488 and a Warning (RFC 3261 §21.4.26). The SIP is what is under test here.
 */
const sdpRefused = { status: 488 } as const;
const notForMe = { status: 404 } as const;
const notRegistrar = { status: 405, headers: { allow: phoneAllow } } as const;
const unknownMethod = { status: 501, headers: { allow: phoneAllow } } as const;

/**
 * RFC 4475 §3, every message, with the answer the RFC expects from a proxy (the lab) and from a user agent (the phone,
 * whose user is "user", the user part most of the RFC's Request-URIs name; its own user check compares user parts only).
 */
export const rfc4475Cases: TortureCase[] = [
  // §3.1.1 Valid messages: "parsers must accept", each element then does what the request asks.
  { name: 'wsinv', section: '3.1.1.1', title: 'A Short Tortuous INVITE', proxy: forwarded, ua: notForMe,
    why: 'All elements should treat this as a well-formed request; proxies forward the unknown header fields unchanged. Its Request-URI names vivekg, not the phone (RFC 3261 §8.2.2.1: 404).' },
  { name: 'intmeth', section: '3.1.1.2', title: 'Wide Range of Valid Characters', proxy: forwarded, ua: unknownMethod,
    why: 'If this unusual URI has been defined at a proxy, the proxy will forward this request normally. Endpoints will generate a 501 listing the methods they understand in an Allow header field.' },
  { name: 'esc01', section: '3.1.1.3', title: 'Valid Use of the % Escaping Mechanism', proxy: forwarded, ua: notForMe,
    why: 'A parser must accept this as a well-formed message. Its user part is sips:user@example.com, not the phone\'s user.' },
  { name: 'escnull', section: '3.1.1.4', title: 'Escaped Nulls in URIs', proxy: forwarded, ua: notRegistrar,
    why: 'The message is well formed - parsers must accept this message. A phone is no registrar: 405 with the methods it does allow (RFC 3261 §8.2.1).' },
  { name: 'esc02', section: '3.1.1.5', title: 'Use of % When It Is Not an Escape', proxy: forwarded, ua: unknownMethod,
    why: 'A proxy would forward or reject the message depending on what the Request-URI meant to it. An endpoint would reject this message with a 501.' },
  { name: 'lwsdisp', section: '3.1.1.6', title: 'Message with No LWS between Display Name and <', proxy: forwarded, ua: optionsOk,
    why: 'Elements should accept this request as well formed.' },
  { name: 'longreq', section: '3.1.1.7', title: 'Long Values in Header Fields', proxy: forwarded, ua: sdpRefused,
    why: 'This well-formed request contains header fields with many values and values that are very long.' },
  { name: 'dblreq', section: '3.1.1.8', title: 'Extra Trailing Octets in a UDP Datagram', proxy: forwarded, ua: notRegistrar, spoilsStream: true,
    why: 'A SIP element receiving this datagram would handle the REGISTER request normally and ignore the extra bits that look like an INVITE request. If the element is a proxy choosing to forward the REGISTER, the INVITE octets would not appear in the forwarded request.' },
  { name: 'semiuri', section: '3.1.1.9', title: 'Semicolon-Separated Parameters in URI User Part', proxy: forwarded, ua: notForMe,
    why: 'Receiving elements will accept this as a well-formed message. The Request-URI will parse so that the user part is "user;par=u@example.net".' },
  { name: 'transports', section: '3.1.1.10', title: 'Varied and Unknown Transport Types', proxy: forwarded, ua: optionsOk,
    why: 'Parsers must accept this message as well formed. Elements receiving this message would process it exactly as if the 2nd and subsequent header field values specified UDP.' },
  { name: 'mpart01', section: '3.1.1.11', title: 'Multipart MIME Message', proxy: forwarded, ua: notRegistrar,
    why: 'Parsers must accept this message as well formed, even if the application above the parser does not support multipart/signed. The phone takes no MESSAGE: 405 with its Allow.' },
  { name: 'unreason', section: '3.1.1.12', title: 'Unusual Reason Phrase', proxy: dropped, ua: dropped,
    why: 'This response is well formed. A parser must accept this message. It matches no transaction: discarded (RFC 3261 §16.7, §17.1.3).' },
  { name: 'noreason', section: '3.1.1.13', title: 'Empty Reason Phrase', proxy: dropped, ua: dropped,
    why: 'This well-formed response contains no reason phrase. A parser must accept this message. It matches no transaction: discarded.' },
  // §3.1.2 Invalid messages.
  { name: 'badinv01', section: '3.1.2.1', title: 'Extraneous Header Field Separators', proxy: bad, ua: bad,
    why: 'An element receiving this request should respond with a 400 Bad Request error.' },
  { name: 'clerr', section: '3.1.2.2', title: 'Content Length Larger Than Message', proxy: bad, ua: bad, stream: closed,
    why: 'When sent over UDP, the receiving element should respond with a 400 Bad Request error. If this message arrived over a stream-based transport, such as TCP, there\'s not much the receiving party could do but wait for more data on the stream and close the connection if none is forthcoming within a reasonable period of time.' },
  { name: 'ncl', section: '3.1.2.3', title: 'Negative Content-Length', proxy: bad, ua: bad, stream: closed,
    why: 'An element receiving this message should respond with an error. If a request like this arrives over TCP, the framing error is not recoverable, and the connection should be closed.' },
  { name: 'scalar02', section: '3.1.2.4', title: 'Request Scalar Fields with Overlarge Values', proxy: bad, ua: bad,
    why: 'An element receiving this request should respond with a 400 Bad Request due to the CSeq error.' },
  { name: 'scalarlg', section: '3.1.2.5', title: 'Response Scalar Fields with Overlarge Values', proxy: dropped, ua: dropped,
    why: 'An element receiving this response will simply discard it.' },
  { name: 'quotbal', section: '3.1.2.6', title: 'Unterminated Quoted String in Display Name', proxy: bad, ua: bad,
    why: 'An element receiving this request should return a 400 Bad Request error.' },
  { name: 'ltgtruri', section: '3.1.2.7', title: '<> Enclosing Request-URI', proxy: bad, ua: bad,
    why: 'It is reasonable always to reject a request with this error with a 400 Bad Request.' },
  { name: 'lwsruri', section: '3.1.2.8', title: 'Malformed SIP Request-URI (embedded LWS)', proxy: bad, ua: bad,
    why: 'An element receiving this request should respond with a 400 Bad Request.' },
  { name: 'lwsstart', section: '3.1.2.9', title: 'Multiple SP Separating Request-Line Elements', proxy: bad, ua: bad,
    why: 'It is acceptable to reject this request as malformed.' },
  { name: 'trws', section: '3.1.2.10', title: 'SP Characters at End of Request-Line', proxy: bad, ua: bad,
    why: 'It is acceptable to reject this request as malformed.' },
  { name: 'escruri', section: '3.1.2.11', title: 'Escaped Headers in SIP Request-URI', proxy: bad, ua: bad,
    why: 'It is acceptable for an element to reject this request with a 400 Bad Request.' },
  { name: 'baddate', section: '3.1.2.12', title: 'Invalid Time Zone in Date Header Field', proxy: forwarded, ua: sdpRefused,
    why: 'An element shouldn\'t reject it unless the contents of the Date header field were actually important to its processing; neither element reads Date, so both act on the request.' },
  { name: 'regbadct', section: '3.1.2.13', title: 'Failure to Enclose name-addr URI in <>', proxy: bad, ua: bad,
    why: 'It is reasonable for an element receiving this request to respond with a 400 Bad Request.' },
  { name: 'badaspec', section: '3.1.2.14', title: 'Spaces within addr-spec', proxy: bad, ua: bad,
    why: 'Parsers receiving this request must not break. It is reasonable to reject this request with a 400 Bad Request response.' },
  { name: 'baddn', section: '3.1.2.15', title: 'Non-token Characters in Display Name', proxy: bad, ua: bad,
    why: 'It is reasonable always to reject this kind of error with a 400 Bad Request response.' },
  { name: 'badvers', section: '3.1.2.16', title: 'Unknown Protocol Version', proxy: { status: 505 }, ua: { status: 505 },
    why: 'The element should respond to the request with a 505 Version Not Supported error.' },
  { name: 'mismatch01', section: '3.1.2.17', title: 'Start Line and CSeq Method Mismatch', proxy: bad, ua: bad,
    why: 'Any element receiving this request will respond with a 400 Bad Request.' },
  { name: 'mismatch02', section: '3.1.2.18', title: 'Unknown Method with CSeq Method Mismatch', proxy: { status: 501 }, ua: { status: 501 },
    why: 'Any element receiving this request should respond with a 501 Not Implemented. A 400 Bad Request is also acceptable, but choosing a 501 (particularly at proxies) has better future-proof characteristics.' },
  { name: 'bigcode', section: '3.1.2.19', title: 'Overlarge Response Code', proxy: dropped, ua: dropped,
    why: 'An element receiving this response should simply drop it.' },
  // §3.2 Transaction layer semantics.
  { name: 'badbranch', section: '3.2.1', title: 'Missing Transaction Identifier', proxy: forwarded, ua: optionsOk,
    why: 'A parser must not break when receiving this message. An element could reject it with a 400, or it could fall back to the RFC 2543-style transaction identifier: both elements fall back.' },
  // §3.3 Application-layer semantics.
  { name: 'insuf', section: '3.3.1', title: 'Missing Required Header Fields', proxy: bad, ua: bad,
    why: 'An element receiving this message must not break because of the missing information. Ideally, it will respond with a 400 Bad Request error.' },
  { name: 'unkscm', section: '3.3.2', title: 'Request-URI with Unknown Scheme', proxy: { status: 416 }, ua: { status: 416 },
    why: 'The request should be rejected with a 416 Unsupported URI Scheme response (RFC 3261 §8.2.2.1, §16.3 step 2).' },
  { name: 'novelsc', section: '3.3.3', title: 'Request-URI with Known but Atypical Scheme', proxy: { status: 416 }, ua: { status: 416 },
    why: 'A proxy knowing how to interpret the URI could forward it; otherwise (and at any endpoint not knowing it) it is refused with 416.' },
  { name: 'unksm2', section: '3.3.4', title: 'Unknown URI Schemes in Header Fields', proxy: forwarded, ua: notRegistrar,
    why: 'The message is syntactically valid. Parsers must not fail when receiving this message. Proxies should treat this message as they would any other request for this URI.' },
  { name: 'bext01', section: '3.3.5', title: 'Proxy-Require and Require', proxy: { status: 420, headers: { unsupported: 'noProxiesSupportThis, norDoAnyProxiesSupportThis' } },
    ua: { status: 420, headers: { unsupported: 'nothingSupportsThis, nothingSupportsThisEither' } },
    why: 'A proxy rejects it with 420 Bad Extension listing the Proxy-Require option tags in Unsupported (RFC 3261 §16.3 step 4); an endpoint with a 420 listing the Require option tags (§8.2.2.3).' },
  { name: 'invut', section: '3.3.6', title: 'Unknown Content-Type', proxy: forwarded, ua: { status: 415, headers: { accept: 'application/sdp' } },
    why: 'A proxy should forward this request normally. A UA should reject it with a 415 Unsupported Media Type listing the types it understands in Accept (RFC 3261 §8.2.3).' },
  { name: 'regaut01', section: '3.3.7', title: 'Unknown Authorization Scheme', proxy: forwarded, ua: notRegistrar,
    why: 'A proxy will treat this request as any other REGISTER, its Authorization header field unmodified. Endpoints choosing not to act as registrars will simply reject the request. A 405 Method Not Allowed is appropriate.' },
  { name: 'multi01', section: '3.3.8', title: 'Multiple Values in Single Value Required Fields', proxy: bad, ua: bad,
    why: 'The request contains several single-value header fields with more than one value. An element receiving this request would respond with a 400 Bad Request.' },
  { name: 'mcl01', section: '3.3.9', title: 'Multiple Content-Length Values', proxy: bad, ua: bad, stream: closed,
    why: 'From a framing perspective, this situation is equivalent to an invalid Content-Length value. An element receiving this message should respond with an error; over TCP the framing error is not recoverable, and the connection should be closed.' },
  { name: 'bcast', section: '3.3.10', title: '200 OK Response with Broadcast Via Header Field Value', proxy: dropped, ua: dropped,
    why: 'An endpoint receiving this message should simply discard it. Proxies should drop such responses rather than forward them to the broadcast address.' },
  { name: 'zeromf', section: '3.3.11', title: 'Max-Forwards of Zero', proxy: { status: 483 }, ua: optionsOk,
    why: 'A proxy should not forward the request and should respond 483 (Too Many Hops). An endpoint should process the request as if the Max-Forwards field value were still positive.' },
  { name: 'cparam01', section: '3.3.12', title: 'REGISTER with a Contact Header Parameter', proxy: forwarded, ua: notRegistrar,
    why: 'The REGISTER is well formed: a registrar takes it, a proxy forwards it; a phone is no registrar.' },
  { name: 'cparam02', section: '3.3.13', title: 'REGISTER with a url-parameter', proxy: forwarded, ua: notRegistrar,
    why: 'The REGISTER is well formed: a registrar takes it, a proxy forwards it; a phone is no registrar.' },
  { name: 'regescrt', section: '3.3.14', title: 'REGISTER with a URL Escaped Header', proxy: forwarded, ua: notRegistrar,
    why: 'The REGISTER is well formed (the escaped header is inside <>): a registrar takes it, a proxy forwards it; a phone is no registrar.' },
  { name: 'sdp01', section: '3.3.15', title: 'Unacceptable Accept Offering', proxy: forwarded, ua: { status: 406 },
    why: 'Since the Accept header field does not contain application/sdp, the response may not contain an SDP body: the recipient responds with 406 Not Acceptable (RFC 3261 §21.4.7). A proxy forwards it.' },
  // §3.4 Backward compatibility.
  { name: 'inv2543', section: '3.4.1', title: 'INVITE with RFC 2543 Syntax', proxy: forwarded, ua: notForMe, stream: closed,
    why: 'This is a legal message per RFC 2543 (and erratum) sent over UDP; a proxy forwards it with Max-Forwards added. Its Request-URI names UserB. On a stream its missing Content-Length leaves no framing (RFC 3261 §18.3).' },
];

const fixtureDirectory = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'fixtures', 'rfc4475');

/** The exact octets of one RFC 4475 message. */
export function rfc4475Message(name: string): Buffer {
  return fs.readFileSync(path.join(fixtureDirectory, `${name}.sip`));
}
