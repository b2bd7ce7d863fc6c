import {
  formatSipUri,
  parseNameAddr,
  parseSipMessage,
  parseSipUri,
  parseVia,
  SipRequest,
  SipResponse,
  type SipMessage,
  type SipParam,
  type SipUri,
  type Via,
} from '../../core/sip/message/index.js';

/**
 * Messages of seed 002 Fig. 1 for signing tests, and a "legal re-serialiser": what proxies may do to a message
 * without changing its meaning (header-name case and compact forms, list elements split or joined, spacing around
 * separators, parameter order, the case of parameter names, hosts and case-insensitive values, %-escapes of
 * unreserved characters).
 */

/** A small deterministic PRNG (mulberry32), so a failing property run can be replayed from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Random = () => number;

export function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

export function shuffle<T>(random: Random, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The INVITE of Fig. 2 as SIP node 300 receives it: Alice's Via and those of nodes 200 and 250, their Record-Routes. */
export function fig1Invite(): SipRequest {
  return parseSipMessage(
    [
      'INVITE sip:bob@b.example.com SIP/2.0',
      'Via: SIP/2.0/UDP 192.0.2.25:5060;branch=z9hG4bK250x;received=192.0.2.25',
      'Via: SIP/2.0/TCP 192.0.2.20:5060;branch=z9hG4bK200x',
      'Via: SIP/2.0/UDP [2001:db8::10]:5062;branch=z9hG4bKalice;rport=5062;received=2001:db8::10',
      'Max-Forwards: 68',
      'Record-Route: <sip:edge.a.example.com;lr>',
      'Record-Route: <sip:home.a.example.com;transport=tcp;lr>',
      'From: "Alice" <sip:alice@a.example.com>;tag=1928301774',
      'To: Bob <sip:bob@b.example.com>',
      'Call-ID: a84b4c76e66710@pc33.a.example.com',
      'CSeq: 314159 INVITE',
      'Contact: <sip:alice@[2001:db8::10]:5062;transport=udp>',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  ) as SipRequest;
}

/** What SIP node 300 adds before forwarding (RFC 3261 §16.6): its Record-Route and Via on top. */
export function addProxyHeaders(request: SipRequest, host = 'p300.b.example.com', branch = 'z9hG4bK300x'): SipRequest {
  const copy = request.clone();
  copy.prepend('record-route', `<sip:${host};lr>`);
  copy.prepend('via', `SIP/2.0/UDP ${host};branch=${branch}`);
  return copy;
}

/** Bob's answer (RFC 3261 §8.2.6.2, §12.1.1): Via, Record-Route, From, To (tagged), Call-ID and CSeq echoed, his Contact. */
export function answer(request: SipMessage, status = 200, contact = '<sip:bob@198.51.100.7:5070;transport=udp>', toTag = 'bobtag77'): SipResponse {
  const echoed = new Set(['via', 'v', 'record-route', 'from', 'f', 'call-id', 'i', 'cseq']);
  const headers = request.headers.filter((h) => echoed.has(h.name.toLowerCase())).map((h) => ({ ...h }));
  const response = new SipResponse(status, status === 200 ? 'OK' : 'Ringing', headers);
  response.set('to', `${request.get('to')};tag=${toTag}`);
  response.set('contact', contact);
  return response;
}

/** Stamp what the next hop writes into the top Via of a request it received (RFC 3261 §18.2.1, RFC 3581). */
export function stampTopVia(message: SipMessage, received: string, rport: number): void {
  const via = parseVia(message.getAll('via')[0]!);
  via.params = [...via.params.filter((p) => p.name !== 'received' && p.name !== 'rport'), { name: 'received', value: received }, { name: 'rport', value: String(rport) }];
  message.setTopVia(via);
}

/**
 * The callee's in-dialog request (RFC 3261 §12.1.1, §12.2.1.1): Route = the Record-Route entries in order, as
 * sip.js copies them (whole entries), Request-URI = the caller's Contact URI, tags swapped.
 */
export function calleeRequest(invite: SipRequest, method = 'BYE', toTag = 'bobtag77'): SipRequest {
  const target = parseNameAddr(invite.getAll('contact')[0]!).uri;
  const request = new SipRequest(method, formatSipUri(target), []);
  request.append('via', 'SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bKbye1');
  request.append('max-forwards', '70');
  for (const route of invite.getAll('record-route')) request.append('route', route);
  request.append('from', `${invite.get('to')};tag=${toTag}`);
  request.append('to', invite.get('from')!);
  request.append('call-id', invite.callId);
  request.append('cseq', `1 ${method}`);
  return request;
}

/** The caller's in-dialog request: Route = the response's Record-Route entries reversed, Request-URI = the callee's Contact. */
export function callerRequest(invite: SipRequest, response: SipResponse, method = 'BYE'): SipRequest {
  const target = parseNameAddr(response.getAll('contact')[0]!).uri;
  const request = new SipRequest(method, formatSipUri(target), []);
  request.append('via', 'SIP/2.0/UDP [2001:db8::10]:5062;branch=z9hG4bKbye2');
  request.append('max-forwards', '70');
  for (const route of [...response.getAll('record-route')].reverse()) request.append('route', route);
  request.append('from', invite.get('from')!);
  request.append('to', response.get('to')!);
  request.append('call-id', invite.callId);
  request.append('cseq', `314160 ${method}`);
  return request;
}

/** A loose-routing proxy before us removes its own Route entry (RFC 3261 §16.4). */
export function popRoute(request: SipRequest): SipRequest {
  const copy = request.clone();
  copy.shift('route');
  return copy;
}


// ---- legal re-serialisation --------------------------------------------------------------------------------

const compact: Record<string, string> = { via: 'v', contact: 'm', 'call-id': 'i', from: 'f', to: 't' };
const unreservedEscapable = /[a-z0-9]/i;

function randomCase(random: Random, text: string): string {
  return text.replace(/[a-z]/gi, (ch) => (random() < 0.5 ? ch.toUpperCase() : ch.toLowerCase()));
}

function sws(random: Random): string {
  return pick(random, ['', '', ' ', '  ', '\t']);
}

/** Replace some unreserved characters by their %-escape, as RFC 3261 §19.1.4 says is equivalent. */
function escapeSome(random: Random, text: string): string {
  return text
    .split(/(%[0-9A-Fa-f]{2})/)
    .map((part) => (part.startsWith('%') ? part : part.replace(/./g, (ch) => (unreservedEscapable.test(ch) && random() < 0.15 ? `%${ch.charCodeAt(0).toString(16).padStart(2, '0')}` : ch))))
    .join('');
}

const caseInsensitiveUriValues = new Set(['transport', 'user', 'method', 'maddr', 'ttl']);

function formatParamsRandom(random: Random, params: readonly SipParam[], spaced: boolean, values: Set<string>): string {
  return shuffle(random, params)
    .map((p) => {
      const name = randomCase(random, p.name);
      const sep = spaced ? sws(random) : '';
      if (p.value === undefined) return `${sep};${sep}${name}`;
      let value = values.has(p.name.toLowerCase()) ? randomCase(random, p.value) : p.value;
      if (!spaced && !p.name.toLowerCase().startsWith('vp-')) value = escapeSome(random, value);
      return `${sep};${sep}${name}${sep}=${sep}${value}`;
    })
    .join('');
}

export function formatUriRandom(random: Random, uri: SipUri): string {
  let out = `${randomCase(random, uri.scheme)}:`;
  if (uri.user !== undefined) out += `${escapeSome(random, uri.user)}@`;
  out += randomCase(random, uri.host);
  if (uri.port !== undefined) out += `:${uri.port}`;
  out += formatParamsRandom(random, uri.params, false, caseInsensitiveUriValues);
  if (uri.headers !== undefined) out += `?${shuffle(random, uri.headers.split('&')).join('&')}`;
  return out;
}

export function formatViaRandom(random: Random, via: Via): string {
  const s = (): string => sws(random);
  const port = via.port !== undefined ? `:${via.port}` : '';
  return `SIP${s()}/${s()}2.0${s()}/${s()}${randomCase(random, via.transport)} ${randomCase(random, via.host)}${port}${formatParamsRandom(random, via.params, true, new Set(['received', 'maddr']))}`;
}

export function formatAddressRandom(random: Random, text: string): string {
  const entry = parseNameAddr(text);
  const display = entry.display !== undefined ? `"${entry.display}" ` : '';
  return `${display}<${formatUriRandom(random, entry.uri)}>${formatParamsRandom(random, entry.params, true, new Set())}`;
}

/**
 * A copy of `message` as another (legal) serialiser would write it: every Via, Record-Route, Route and Contact
 * element re-written with random spacing, parameter order and case, header names in random case or compact form,
 * list elements randomly joined into comma-separated lines.
 */
export function reserialize(random: Random, message: SipMessage): SipMessage {
  const lines: string[] = [message.kind === 'request' ? `${message.method} ${formatUriRandom(random, parseSipUri(message.uri))} SIP/2.0` : `SIP/2.0 ${message.status} ${message.reason}`];
  const names: Array<{ key: string; values: string[] }> = [];
  for (const h of message.headers) {
    if (/^(content-length|l)$/i.test(h.name)) continue;
    const key = h.name.toLowerCase() === 'v' ? 'via' : h.name.toLowerCase() === 'm' ? 'contact' : h.name.toLowerCase();
    const last = names[names.length - 1];
    if (last && last.key === key) last.values.push(h.value);
    else names.push({ key, values: [h.value] });
  }
  for (const { key, values } of names) {
    const listy = key === 'via' || key === 'record-route' || key === 'route' || key === 'contact';
    const spell = (): string => (compact[key] && random() < 0.5 ? randomCase(random, compact[key]!) : randomCase(random, key));
    if (!listy) {
      for (const value of values) {
        const rewritten = (key === 'from' || key === 'to' || key === 'f' || key === 't') ? formatAddressRandom(random, value) : value;
        lines.push(`${spell()}:${sws(random)}${rewritten}`);
      }
      continue;
    }
    const elements = message.getAll(key).map((e) => (key === 'via' ? formatViaRandom(random, parseVia(e)) : formatAddressRandom(random, e)));
    let i = 0;
    while (i < elements.length) {
      const take = 1 + Math.floor(random() * Math.min(3, elements.length - i));
      lines.push(`${spell()}:${sws(random)}${elements.slice(i, i + take).join(`${sws(random)},${sws(random)}`)}`);
      i += take;
    }
  }
  return parseSipMessage(`${lines.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`);
}
