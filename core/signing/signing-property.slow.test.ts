import { describe, expect, it } from 'vitest';
import type { SignatureKind } from '../api/signature-types.js';
import {
  formatNameAddr,
  formatSipUri,
  formatVia,
  normalizeHeaderName,
  parseNameAddr,
  parseSipUri,
  parseVia,
  SipRequest,
  SipResponse,
  type NameAddr,
  type SipMessage,
  type SipParam,
  type SipUri,
  type Via,
} from '../sip/message/index.js';
import { formatAddressRandom, formatViaRandom, pick, reserialize, rng, type Random } from '../../test/support/signing-fixtures.js';
import { canonicalUri, canonicalVia, viaPeer } from './canonical.js';
import { KeyRing } from './key-ring.js';
import type { CoverFlag } from './signature-param.js';
import { removeRouteSetSignature, signRecordRoute, signRouteSet, signVia } from './signer.js';
import { checkSignature, findSignatures, type SignatureLocation } from './verifier.js';

/**
 * Property test of the canonicalisation (docs/signing.md): over generated header sets, every legal re-serialisation
 * verifies and every single-field change of a covered item is detected — for all four signatures, where they are
 * made and where they come back. Every set is checked element by element (canonical forms) and end to end: signed
 * by the signer, re-serialised, mutated field by field, checked by the verifier.
 */

const sets = Number(process.env.VP_SIGNING_PROPERTY_SETS ?? 10_000);
/** One changed message in this many is also re-serialised before it is checked. */
const wiredEvery = 32;

// ---- generation ------------------------------------------------------------------------------------------------

const words = ['alpha', 'bravo', 'carol', 'delta', 'echo', 'fox', 'gw', 'edge', 'core', 'pool'];

function host(r: Random): string {
  const kind = r();
  if (kind < 0.35) return `${Math.floor(r() * 223) + 1}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 254) + 1}`;
  if (kind < 0.5) return `[2001:db8::${Math.floor(r() * 0xffff).toString(16)}]`;
  return `${pick(r, words)}${Math.floor(r() * 100)}.${pick(r, words)}.example`;
}

function token(r: Random, length = 8): string {
  let out = '';
  for (let i = 0; i < length; i++) out += 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(r() * 36)];
  return out;
}

function via(r: Random): Via {
  const params: SipParam[] = [{ name: 'branch', value: `z9hG4bK${token(r, 10)}` }];
  if (r() < 0.5) params.push({ name: 'received', value: host(r).replace(/[[\]]/g, '') });
  if (r() < 0.5) params.push(r() < 0.5 ? { name: 'rport' } : { name: 'rport', value: String(1024 + Math.floor(r() * 60000)) });
  if (r() < 0.2) params.push({ name: 'maddr', value: host(r) });
  if (r() < 0.2) params.push({ name: 'x-tag', value: token(r, 4) });
  if (r() < 0.1) params.push({ name: 'keep' });
  return { transport: pick(r, ['UDP', 'TCP', 'TLS', 'WS', 'SCTP']), host: host(r), ...(r() < 0.7 ? { port: 1024 + Math.floor(r() * 60000) } : {}), params };
}

function uri(r: Random, route: boolean): SipUri {
  const params: SipParam[] = route ? [{ name: 'lr' }] : [];
  if (r() < 0.5) params.push({ name: 'transport', value: pick(r, ['udp', 'tcp', 'ws', 'tls']) });
  if (r() < 0.2) params.push({ name: 'maddr', value: host(r) });
  if (r() < 0.2) params.push({ name: 'x-p', value: token(r, 5) });
  if (r() < 0.1) params.push({ name: 'ob' });
  return {
    scheme: r() < 0.9 ? 'sip' : 'sips',
    ...(r() < (route ? 0.2 : 0.9) ? { user: token(r, 6) } : {}),
    host: host(r),
    ...(r() < 0.6 ? { port: 1024 + Math.floor(r() * 60000) } : {}),
    params,
  };
}

function address(r: Random, route: boolean): NameAddr {
  return { uri: uri(r, route), params: !route && r() < 0.2 ? [{ name: 'expires', value: '60' }] : [] };
}

interface Generated {
  request: SipRequest;
  peer: string;
  flags: CoverFlag[];
}

/** A request as SIP node 300 forwards it: its own Via and Record-Route on top of 1-4 Vias and 0-3 Record-Routes. */
function generate(r: Random): Generated {
  const request = new SipRequest('INVITE', formatSipUri(uri(r, false)), []);
  const own = 'p300.b.example';
  request.append('via', `SIP/2.0/UDP ${own};branch=z9hG4bK${token(r, 10)}`);
  const below = 1 + Math.floor(r() * 4);
  for (let i = 0; i < below; i++) request.append('via', formatVia(via(r)));
  request.append('record-route', `<sip:${own};lr>`);
  const rrs = Math.floor(r() * 4);
  for (let i = 0; i < rrs; i++) request.append('record-route', formatNameAddr(address(r, true)));
  request.append('from', `<sip:${token(r, 5)}@${host(r)}>;tag=${token(r, 10)}`);
  request.append('to', formatNameAddr(address(r, false)));
  request.append('call-id', `${token(r, 12)}@${host(r)}`);
  request.append('cseq', `${1 + Math.floor(r() * 100000)} INVITE`);
  request.append('contact', formatNameAddr(address(r, false)));
  const flags = (['c', 'f', 'p', 's', 't'] as CoverFlag[]).filter(() => r() < 0.7);
  return { request, peer: viaPeer(pick(r, ['udp', 'tcp', 'ws']), host(r).replace(/[[\]]/g, ''), 1024 + Math.floor(r() * 60000)), flags };
}

// ---- single-field mutations -----------------------------------------------------------------------------------

function bumpHost(h: string): string {
  if (h.startsWith('[')) return h.replace(/([0-9a-f]+)\]$/i, (_m, last: string) => `${((parseInt(last, 16) + 1) & 0xffff).toString(16)}]`);
  if (/^[\d.]+$/.test(h)) return h.replace(/(\d+)$/, (_m, last: string) => String(Number(last) >= 254 ? 1 : Number(last) + 1));
  return `m${h}`;
}

const bumpPort = (port: number | undefined): number => (port === undefined ? 5060 : port === 65535 ? 1 : port + 1);

/** The URI parameters a signer adds and swaps (they are not covered): never mutated. */
const signerUriParams = new Set(['vp-rs', 'vp-key']);
const noParams = new Set<string>();

/** Each parameter removed, each parameter's value changed, one parameter added. */
function paramMutations(params: readonly SipParam[], skip: ReadonlySet<string>): Array<{ what: string; params: SipParam[] }> {
  const out: Array<{ what: string; params: SipParam[] }> = [];
  params.forEach((p, i) => {
    if (skip.has(p.name.toLowerCase())) return;
    out.push({ what: `param ${p.name} removed`, params: params.filter((_, j) => j !== i) });
    out.push({ what: `param ${p.name} changed`, params: params.map((q, j) => (j === i ? { name: q.name, value: q.value === undefined ? '1' : `${q.value}z` } : q)) });
  });
  out.push({ what: 'param added', params: [...params, { name: 'x-injected', value: '1' }] });
  return out;
}

/** Every single-field change of a URI: scheme, host, port, user (changed, removed or added), parameters. */
function uriMutations(base: SipUri): Array<{ what: string; uri: SipUri }> {
  const out: Array<{ what: string; uri: SipUri }> = [
    { what: 'scheme', uri: { ...base, scheme: base.scheme === 'sip' ? 'sips' : 'sip' } },
    { what: 'host', uri: { ...base, host: bumpHost(base.host) } },
    { what: 'port', uri: { ...base, port: bumpPort(base.port) } },
  ];
  if (base.user !== undefined) {
    out.push({ what: 'user', uri: { ...base, user: `${base.user}x` } });
    const { user: _user, ...withoutUser } = base;
    out.push({ what: 'user removed', uri: withoutUser });
  } else {
    out.push({ what: 'user added', uri: { ...base, user: 'mallory' } });
  }
  for (const { what, params } of paramMutations(base.params, signerUriParams)) out.push({ what, uri: { ...base, params } });
  return out;
}

/** Every single-field change of a Via: transport, host, port, parameters. */
function viaFieldMutations(v: Via): Array<{ what: string; via: Via }> {
  const out: Array<{ what: string; via: Via }> = [
    { what: 'transport', via: { ...v, transport: v.transport === 'UDP' ? 'TCP' : 'UDP' } },
    { what: 'host', via: { ...v, host: bumpHost(v.host) } },
    { what: 'port', via: { ...v, port: bumpPort(v.port) } },
  ];
  for (const { what, params } of paramMutations(v.params, noParams)) out.push({ what, via: { ...v, params } });
  return out;
}

/**
 * One single-field change of a signed message: the changed message, built once, or — for the next hop of claim 9 —
 * a changed peer. `message` is undefined when the change leaves the message as it was (two equal neighbours swapped).
 */
interface Mutation {
  what: string;
  message: SipMessage | undefined;
  /** A changed next hop (claim 9) instead of a changed message. */
  peer?: string;
}

/**
 * A signed message and its changed copies. A copy shares every header line it does not change with the signed message
 * (nothing here or in the verifier writes to a header line), so a change costs the text of the element it changes.
 */
class Mutable {
  private readonly ranges = new Map<string, { start: number; end: number }>();
  private readonly lists = new Map<string, readonly string[]>();

  constructor(readonly base: SipMessage) {
    base.headers.forEach((header, i) => {
      const key = normalizeHeaderName(header.name);
      const range = this.ranges.get(key);
      if (range === undefined) this.ranges.set(key, { start: i, end: i + 1 });
      else if (range.end === i) range.end++;
      else throw new Error(`the ${key} lines of a generated message are not together`);
    });
  }

  /** The elements of a header (its lower-case long name), as SipMessage.getAll gives them. */
  elements(name: string): readonly string[] {
    let list = this.lists.get(name);
    if (list === undefined) this.lists.set(name, (list = this.base.getAll(name)));
    return list;
  }

  /** The message with every element of `name` replaced by `elements` (one per line, where the old lines were). */
  withElements(name: string, elements: readonly string[]): SipMessage | undefined {
    const old = this.elements(name);
    if (elements.length === old.length && elements.every((e, i) => e === old[i])) return undefined;
    const range = this.ranges.get(name);
    if (range === undefined) throw new Error(`no ${name} to change`);
    const headerName = this.base.headers[range.start]!.name;
    const headers = this.base.headers.slice(0, range.start);
    for (const value of elements) headers.push({ name: headerName, value });
    for (let i = range.end; i < this.base.headers.length; i++) headers.push(this.base.headers[i]!);
    return this.rebuild(headers);
  }

  /** The message with element `index` of `name` replaced by `text`. */
  withElement(name: string, index: number, text: string): SipMessage | undefined {
    return this.withElements(name, this.elements(name).map((e, j) => (j === index ? text : e)));
  }

  withRequestUri(uri: string): SipMessage | undefined {
    if (this.base.kind !== 'request') throw new Error('a response has no Request-URI');
    return uri === this.base.uri ? undefined : this.rebuild(this.base.headers, uri);
  }

  private rebuild(headers: SipMessage['headers'], uri?: string): SipMessage {
    const base = this.base;
    return base.kind === 'request' ? new SipRequest(base.method, uri ?? base.uri, headers, base.body) : new SipResponse(base.status, base.reason, headers, base.body);
  }
}

/** Change the list itself: each element from `from` on removed, each two neighbours below `to` swapped, one inserted at `to`. */
function listMutations(m: Mutable, name: 'via' | 'record-route' | 'route', from: number, to: number): Mutation[] {
  const els = m.elements(name);
  const out: Mutation[] = [];
  const edit = (what: string, elements: readonly string[]): void => {
    out.push({ what: `${name}: ${what}`, message: m.withElements(name, elements) });
  };
  for (let i = from; i < to; i++) {
    edit(`[${i}] removed`, els.filter((_, j) => j !== i));
    if (i + 1 < to) edit(`[${i}]↔[${i + 1}] swapped`, els.map((e, j) => (j === i ? els[i + 1]! : j === i + 1 ? els[i]! : e)));
  }
  edit(`inserted at ${to}`, [...els.slice(0, to), name === 'via' ? 'SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKinjected' : '<sip:127.0.0.1:9;lr>', ...els.slice(to)]);
  return out;
}

/** Every single-field change of elements `from`..`to`-1: Via transport, host, port and parameters; Record-Route/Route URIs. */
function elementMutations(m: Mutable, name: 'via' | 'record-route' | 'route', from: number, to: number): Mutation[] {
  const out: Mutation[] = [];
  const els = m.elements(name);
  for (let i = from; i < Math.min(to, els.length); i++) {
    if (name === 'via') {
      for (const { what, via } of viaFieldMutations(parseVia(els[i]!))) out.push({ what: `via: [${i}] ${what}`, message: m.withElement(name, i, formatVia(via)) });
    } else {
      const entry = parseNameAddr(els[i]!);
      for (const { what, uri } of uriMutations(entry.uri)) out.push({ what: `${name}: [${i}] uri ${what}`, message: m.withElement(name, i, formatNameAddr({ ...entry, uri })) });
    }
  }
  return out;
}

/** Every single-field change of the first Contact's URI. */
function contactMutations(m: Mutable): Mutation[] {
  const [first, ...rest] = m.elements('contact');
  const entry = parseNameAddr(first!);
  return uriMutations(entry.uri).map(({ what, uri }) => ({ what: `contact: ${what}`, message: m.withElements('contact', [formatNameAddr({ ...entry, uri }), ...rest]) }));
}

/** Every single-field change of the Request-URI. */
function requestUriMutations(m: Mutable): Mutation[] {
  return uriMutations(parseSipUri((m.base as SipRequest).uri)).map(({ what, uri }) => ({ what: `request-uri: ${what}`, message: m.withRequestUri(formatSipUri(uri)) }));
}

/** The single-line header changes: Call-ID, a tag, the CSeq number or method, the To URI. */
function lineMutation(m: Mutable, what: string, name: string, value: string): Mutation {
  return { what, message: m.withElements(name, [value]) };
}

const callIdMutation = (m: Mutable): Mutation => lineMutation(m, 'call-id', 'call-id', `${m.base.callId}q`);

function tagMutation(m: Mutable, what: string, header: 'from' | 'to'): Mutation {
  const entry = parseNameAddr(m.elements(header)[0]!);
  return lineMutation(m, what, header, formatNameAddr({ ...entry, params: entry.params.map((p) => (p.name.toLowerCase() === 'tag' ? { name: p.name, value: `${p.value}q` } : p)) }));
}

// ---- checking -------------------------------------------------------------------------------------------------

const kindCodes: Record<SignatureKind, string> = { via: 'via', 'record-route': 'rr', 'route-set-callee': 'rse', 'route-set-caller': 'rsr' };

/** Whether a found signature is of `kind` in `header` (its value is `version.code.…`). */
function isOf(s: SignatureLocation, kind: SignatureKind, header: SignatureLocation['header']): boolean {
  if (s.header !== header) return false;
  const code = kindCodes[kind];
  const start = s.value.indexOf('.') + 1;
  return start > 0 && s.value.startsWith(code, start) && s.value[start + code.length] === '.';
}

function locate(message: SipMessage, kind: SignatureKind, header: SignatureLocation['header']): SignatureLocation {
  const found = findSignatures(message).filter((s) => isOf(s, kind, header));
  if (found.length !== 1) throw new Error(`expected one ${kind} signature in ${header}, found ${found.length}`);
  return found[0]!;
}

interface Stats {
  sets: number;
  elements: number;
  elementMutations: number;
  endToEndSets: number;
  reserialised: number;
  mutations: number;
  detected: number;
  unchanged: number;
  gone: number;
  /** Changes also checked after a legal re-serialisation of the changed message. */
  wiredMutations: number;
}

/**
 * The canonical forms, element by element: every covered element of the set (the Vias, the Record-Route entries,
 * the Contact, the Request-URI, the To URI) keeps its canonical form under a legal re-serialisation and changes it
 * under every single-field change — which is what makes the MAC detect it.
 */
function elementLevel(r: Random, seed: number, stats: Stats): void {
  const fail = (what: string, detail: string): never => {
    throw new Error(`seed ${seed}: ${what}: ${detail}`);
  };
  const vias = Array.from({ length: 1 + Math.floor(r() * 4) }, () => via(r));
  for (const v of vias) {
    const base = canonicalVia(parseVia(formatVia(v)));
    const legal = formatViaRandom(r, v);
    if (canonicalVia(parseVia(legal)) !== base) fail('a legal re-serialisation changed a Via', `${formatVia(v)} → ${legal}`);
    stats.elements++;
    for (const m of viaFieldMutations(v)) {
      if (canonicalVia(m.via) === base) fail(`Via ${m.what} went unnoticed`, `${formatVia(v)} → ${formatVia(m.via)}`);
      stats.elementMutations++;
    }
  }
  const uris = [...Array.from({ length: 1 + Math.floor(r() * 4) }, () => uri(r, true)), uri(r, false), uri(r, false)];
  for (const u of uris) {
    const wire = formatNameAddr({ uri: u, params: [] });
    const base = canonicalUri(parseNameAddr(wire).uri);
    const legal = formatAddressRandom(r, wire);
    if (canonicalUri(parseNameAddr(legal).uri) !== base) fail('a legal re-serialisation changed a URI', `${wire} → ${legal}`);
    stats.elements++;
    for (const m of uriMutations(u)) {
      if (canonicalUri(m.uri) === base) fail(`URI ${m.what} went unnoticed`, `${wire} → ${formatSipUri(m.uri)}`);
      stats.elementMutations++;
    }
  }
}

describe('signature canonicalisation, property-tested', () => {
  it(`over ${sets} generated header sets, each end to end: legal re-serialisations verify, every single-field change of a covered item is detected`, () => {
    const stats: Stats = { sets: 0, elements: 0, elementMutations: 0, endToEndSets: 0, reserialised: 0, mutations: 0, detected: 0, unchanged: 0, gone: 0, wiredMutations: 0 };
    const ring = new KeyRing({ now: () => 1_800_000_000_000 });
    const keys = { via: ring.signingKey('via'), rr: ring.signingKey('record-route'), rs: ring.signingKey('route-set') };
    const options = (peer?: string) => ({ keys: ring, now: 1_800_000_000_000, ...(peer !== undefined ? { peer } : {}) });

    for (let seed = 1; seed <= sets; seed++) {
      const r = rng(seed);
      stats.sets++;
      elementLevel(r, seed, stats);
      endToEnd(r, seed);
    }
    expect(stats.sets).toBe(sets);
    expect(stats.elementMutations).toBeGreaterThan(sets * 50);
    expect(stats.endToEndSets).toBe(sets);
    expect(stats.reserialised).toBe(sets * 8);
    expect(stats.detected).toBe(stats.mutations);
    expect(stats.mutations).toBeGreaterThan(sets * 100);
    expect(stats.wiredMutations).toBe(Math.floor(stats.mutations / wiredEvery));
    console.log(
      `signature property test: ${stats.sets} header sets — ${stats.elements} covered elements re-serialised and ${stats.elementMutations} single-field changes all changing the canonical form; ` +
        `${stats.endToEndSets} sets end to end: ${stats.reserialised} re-serialised messages verified, ${stats.detected}/${stats.mutations} single-field changes detected by the verifier ` +
        `(${stats.wiredMutations} of them also after a legal re-serialisation; ${stats.unchanged} changes with nothing to change, ${stats.gone} taking the signature with them)`,
    );

    /** Signer → wire → verifier for one generated request, its response and both in-dialog requests. */
    function endToEnd(r: Random, seed: number): void {
      stats.endToEndSets++;
      const wireRandom = rng(seed + 0x9e3779b9);
      const { request, peer, flags } = generate(r);
      signRecordRoute(request, keys.rr, 0);
      signRouteSet(request, 'route-set-callee', keys.rs, 0);
      signVia(request, keys.via, [...flags, 'r'], peer);

      const expectValid = (message: SipMessage, kind: SignatureKind, header: SignatureLocation['header'], p?: string): void => {
        const report = checkSignature(message, locate(message, kind, header), options(p));
        if (report.verdict !== 'valid') throw new Error(`seed ${seed}: ${kind} in ${header} is ${report.verdict} (${report.note}) after a legal re-serialisation:\n${message.toString()}`);
        stats.reserialised++;
      };
      const expectDetected = (base: Mutable, mutation: Mutation, watch: Array<[SignatureKind, SignatureLocation['header']]>, p?: string): void => {
        const changed = mutation.peer !== undefined ? base.base : mutation.message;
        if (changed === undefined) {
          stats.unchanged++; // nothing to change here (two equal neighbours swapped)
          return;
        }
        const found = findSignatures(changed);
        for (const [kind, header] of watch) {
          const location = found.find((s) => isOf(s, kind, header));
          if (!location) {
            stats.gone++; // the change removed the element carrying it: the verifier reports it missing
            continue;
          }
          const report = checkSignature(changed, location, options(mutation.peer ?? p));
          stats.mutations++;
          if (report.verdict === 'valid') throw new Error(`seed ${seed}: "${mutation.what}" was not detected by the ${kind} signature in ${header}:\n${changed.toString()}`);
          stats.detected++;
          // Every so often the changed message also goes through a legal re-serialisation first: a proxy's rewriting
          // must not hide a change either. (Its own generator, so the sets stay those of their seeds.)
          if (stats.mutations % wiredEvery !== 0) continue;
          const wire = reserialize(wireRandom, changed);
          const wireLocation = findSignatures(wire).find((s) => isOf(s, kind, header));
          if (!wireLocation) throw new Error(`seed ${seed}: the ${kind} signature in ${header} did not survive a re-serialisation`);
          stats.wiredMutations++;
          if (checkSignature(wire, wireLocation, options(mutation.peer ?? p)).verdict === 'valid') {
            throw new Error(`seed ${seed}: "${mutation.what}" was not detected by the ${kind} signature in ${header} once re-serialised:\n${wire.toString()}`);
          }
        }
      };

      // 1. Where the request is signed (and where Bob receives it, and echoes it in his response).
      const wire = reserialize(r, request);
      expectValid(wire, 'via', 'Via', peer);
      expectValid(wire, 'record-route', 'Record-Route');
      expectValid(wire, 'route-set-callee', 'Record-Route');
      const signed = new Mutable(request);
      const viaCount = signed.elements('via').length;
      const rrCount = signed.elements('record-route').length;
      const viaWatch: Array<[SignatureKind, SignatureLocation['header']]> = [['via', 'Via']];
      const rrWatch: Array<[SignatureKind, SignatureLocation['header']]> = [['record-route', 'Record-Route'], ['route-set-callee', 'Record-Route']];
      for (const m of [...listMutations(signed, 'via', 1, viaCount), ...elementMutations(signed, 'via', 1, viaCount)]) expectDetected(signed, m, viaWatch, peer);
      for (const m of [...listMutations(signed, 'record-route', 1, rrCount), ...elementMutations(signed, 'record-route', 0, rrCount)]) expectDetected(signed, m, rrWatch);
      // the signer's own entry: only its signature parameters may change
      for (const m of contactMutations(signed)) expectDetected(signed, m, [['route-set-callee', 'Record-Route']]);
      const to = parseNameAddr(signed.elements('to')[0]!);
      const cseq = request.cseq;
      const callId = callIdMutation(signed);
      const fromTag = tagMutation(signed, 'from tag', 'from');
      const extras: Array<[CoverFlag, Mutation]> = [
        ['c', callId],
        ['f', fromTag],
        ['s', lineMutation(signed, 'cseq number', 'cseq', `${cseq.seq + 1} ${cseq.method}`)],
        ['s', lineMutation(signed, 'cseq method', 'cseq', `${cseq.seq} OPTIONS`)],
        ['t', lineMutation(signed, 'to uri', 'to', formatNameAddr({ ...to, uri: { ...to.uri, host: bumpHost(to.uri.host) } }))],
        ['p', { what: 'peer', message: undefined, peer: peer.replace(/:(\d+)$/, (_m, port: string) => `:${(Number(port) % 65535) + 1}`) }],
      ];
      for (const [flag, m] of extras) if (flags.includes(flag)) expectDetected(signed, m, viaWatch, peer);
      expectDetected(signed, callId, [['record-route', 'Record-Route'], ['route-set-callee', 'Record-Route']]);
      expectDetected(signed, fromTag, [['route-set-callee', 'Record-Route']]);

      // 2. The callee's in-dialog request: Route = the Record-Route set, Request-URI = the caller's Contact.
      const bye = new SipRequest('BYE', formatSipUri(parseNameAddr(request.getAll('contact')[0]!).uri), []);
      bye.append('via', 'SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bKbye');
      for (const e of request.getAll('record-route')) bye.append('route', e);
      bye.append('from', `${request.get('to')};tag=${token(r, 6)}`);
      bye.append('to', request.get('from')!);
      bye.append('call-id', request.callId);
      bye.append('cseq', '1 BYE');
      expectValid(reserialize(r, bye), 'route-set-callee', 'Route');
      const byeM = new Mutable(bye);
      const routeWatch: Array<[SignatureKind, SignatureLocation['header']]> = [['route-set-callee', 'Route']];
      for (const m of [...listMutations(byeM, 'route', 1, rrCount), ...elementMutations(byeM, 'route', 0, rrCount), ...requestUriMutations(byeM)]) expectDetected(byeM, m, routeWatch);
      expectDetected(byeM, callIdMutation(byeM), routeWatch);
      expectDetected(byeM, tagMutation(byeM, 'caller tag (To)', 'to'), routeWatch);

      // 3. Bob's response, with 0-2 Record-Routes of proxies after us; we swap in the caller route-set signature.
      const response = new SipResponse(200, 'OK', []);
      for (const v of request.getAll('via')) response.append('via', v);
      const downstream = Math.floor(r() * 3);
      for (let i = 0; i < downstream; i++) response.append('record-route', formatNameAddr(address(r, true)));
      for (const e of request.getAll('record-route')) response.append('record-route', e);
      for (const name of ['from', 'call-id', 'cseq']) response.append(name, request.get(name)!);
      response.append('to', `${request.get('to')};tag=${token(r, 6)}`);
      response.append('contact', formatNameAddr(address(r, false)));
      const atUs = reserialize(r, response);
      expectValid(atUs, 'via', 'Via', peer);
      expectValid(atUs, 'record-route', 'Record-Route');
      response.shift('via');
      removeRouteSetSignature(response, downstream);
      signRouteSet(response, 'route-set-caller', keys.rs, downstream);
      expectValid(reserialize(r, response), 'route-set-caller', 'Record-Route');
      const responseM = new Mutable(response);
      const callerWatch: Array<[SignatureKind, SignatureLocation['header']]> = [['route-set-caller', 'Record-Route']];
      for (const m of [...listMutations(responseM, 'record-route', 0, downstream), ...elementMutations(responseM, 'record-route', 0, downstream + 1), ...contactMutations(responseM)]) expectDetected(responseM, m, callerWatch);

      // 4. The caller's in-dialog request, once the proxies before us took their entries off the route.
      const aliceBye = new SipRequest('BYE', formatSipUri(parseNameAddr(response.getAll('contact')[0]!).uri), []);
      aliceBye.append('via', 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKbye');
      for (const e of response.getAll('record-route').slice(0, downstream + 1).reverse()) aliceBye.append('route', e);
      aliceBye.append('from', request.get('from')!);
      aliceBye.append('to', response.get('to')!);
      aliceBye.append('call-id', request.callId);
      aliceBye.append('cseq', '2 BYE');
      expectValid(reserialize(r, aliceBye), 'route-set-caller', 'Route');
      const aliceM = new Mutable(aliceBye);
      const aliceWatch: Array<[SignatureKind, SignatureLocation['header']]> = [['route-set-caller', 'Route']];
      for (const m of [...listMutations(aliceM, 'route', 1, downstream + 1), ...elementMutations(aliceM, 'route', 0, downstream + 1), ...requestUriMutations(aliceM)]) expectDetected(aliceM, m, aliceWatch);
      expectDetected(aliceM, tagMutation(aliceM, 'caller tag (From)', 'from'), aliceWatch);
    }
  }, 240_000);
});
