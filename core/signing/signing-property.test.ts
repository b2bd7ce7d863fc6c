import { describe, expect, it } from 'vitest';
import type { SignatureKind } from '../api/signature-types.js';
import {
  formatNameAddr,
  formatSipUri,
  formatVia,
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
 * made and where they come back.
 */

const sets = Number(process.env.VP_SIGNING_PROPERTY_SETS ?? 10_000);
/** Every this many sets also go end to end: signed, re-serialised, mutated field by field, verified. */
const endToEndEvery = Number(process.env.VP_SIGNING_PROPERTY_E2E_EVERY ?? 125);

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

interface Mutation {
  what: string;
  apply: (message: SipMessage) => SipMessage;
  /** A changed next hop (claim 9) instead of a changed message. */
  peer?: string;
}

function bumpHost(h: string): string {
  if (h.startsWith('[')) return h.replace(/([0-9a-f]+)\]$/i, (_m, last: string) => `${((parseInt(last, 16) + 1) & 0xffff).toString(16)}]`);
  if (/^[\d.]+$/.test(h)) return h.replace(/(\d+)$/, (_m, last: string) => String(Number(last) >= 254 ? 1 : Number(last) + 1));
  return `m${h}`;
}

function paramMutations(params: readonly SipParam[], set: (params: SipParam[]) => void, skip: Set<string>): Array<{ what: string; run: () => void }> {
  const out: Array<{ what: string; run: () => void }> = [];
  params.forEach((p, i) => {
    if (skip.has(p.name.toLowerCase())) return;
    out.push({ what: `param ${p.name} removed`, run: () => set(params.filter((_, j) => j !== i)) });
    out.push({ what: `param ${p.name} changed`, run: () => set(params.map((q, j) => (j === i ? { name: q.name, value: q.value === undefined ? '1' : `${q.value}z` } : q))) });
  });
  out.push({ what: 'param added', run: () => set([...params, { name: 'x-injected', value: '1' }]) });
  return out;
}

function uriMutations(base: SipUri): Array<{ what: string; uri: SipUri }> {
  const out: Array<{ what: string; uri: SipUri }> = [];
  const copy = (): SipUri => ({ ...base, params: [...base.params] });
  out.push({ what: 'scheme', uri: { ...copy(), scheme: base.scheme === 'sip' ? 'sips' : 'sip' } });
  out.push({ what: 'host', uri: { ...copy(), host: bumpHost(base.host) } });
  out.push({ what: 'port', uri: { ...copy(), port: base.port === undefined ? 5060 : base.port === 65535 ? 1 : base.port + 1 } });
  if (base.user !== undefined) {
    out.push({ what: 'user', uri: { ...copy(), user: `${base.user}x` } });
    const { user: _user, ...withoutUser } = copy();
    out.push({ what: 'user removed', uri: withoutUser });
  } else {
    out.push({ what: 'user added', uri: { ...copy(), user: 'mallory' } });
  }
  for (const m of paramMutations(base.params, (params) => out.push({ what: '', uri: { ...copy(), params } }), new Set(['vp-rs', 'vp-key']))) {
    const before = out.length;
    m.run();
    out[before]!.what = m.what;
  }
  return out;
}

/** Change one element of a list header, or the list itself (one removed, one inserted, two swapped). */
function listMutations(name: 'via' | 'record-route' | 'route', from: number, to: number): Mutation[] {
  const out: Mutation[] = [];
  const edit = (what: string, change: (elements: string[]) => string[]): Mutation => ({
    what: `${name}: ${what}`,
    apply: (message) => {
      const copy = message.clone();
      copy.replaceAll(name, change(copy.getAll(name)));
      return copy;
    },
  });
  for (let i = from; i < to; i++) {
    if (name === 'via') {
      out.push(
        ...['transport', 'host', 'port'].map((field) =>
          edit(`[${i}] ${field}`, (els) => {
            const v = parseVia(els[i]!);
            const changed: Via = field === 'transport' ? { ...v, transport: v.transport === 'UDP' ? 'TCP' : 'UDP' } : field === 'host' ? { ...v, host: bumpHost(v.host) } : { ...v, port: v.port === undefined ? 5060 : v.port === 65535 ? 1 : v.port + 1 };
            return els.map((e, j) => (j === i ? formatVia(changed) : e));
          }),
        ),
      );
    }
    out.push(edit(`[${i}] removed`, (els) => els.filter((_, j) => j !== i)));
    if (i + 1 < to) out.push(edit(`[${i}]↔[${i + 1}] swapped`, (els) => els.map((e, j) => (j === i ? els[i + 1]! : j === i + 1 ? els[i]! : e))));
  }
  out.push(edit(`inserted at ${to}`, (els) => [...els.slice(0, to), name === 'via' ? 'SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKinjected' : '<sip:127.0.0.1:9;lr>', ...els.slice(to)]));
  return out;
}

/** Per-element field mutations of Via parameters and of Record-Route/Route URIs (expanded per message). */
function elementMutations(message: SipMessage, name: 'via' | 'record-route' | 'route', from: number, to: number): Mutation[] {
  const out: Mutation[] = [];
  const elements = message.getAll(name);
  for (let i = from; i < Math.min(to, elements.length); i++) {
    if (name === 'via') {
      const v = parseVia(elements[i]!);
      for (const m of paramMutations(v.params, () => undefined, new Set())) {
        const what = `via: [${i}] ${m.what}`;
        out.push({
          what,
          apply: (msg) => {
            const copy = msg.clone();
            const els = copy.getAll('via');
            const current = parseVia(els[i]!);
            let params = current.params;
            const mutations = paramMutations(current.params, (p) => (params = p), new Set());
            mutations.find((x) => x.what === m.what)!.run();
            copy.replaceAll('via', els.map((e, j) => (j === i ? formatVia({ ...current, params }) : e)));
            return copy;
          },
        });
      }
    } else {
      const entry = parseNameAddr(elements[i]!);
      for (const m of uriMutations(entry.uri)) {
        out.push({
          what: `${name}: [${i}] uri ${m.what}`,
          apply: (msg) => {
            const copy = msg.clone();
            const els = copy.getAll(name);
            const current = parseNameAddr(els[i]!);
            const changed = uriMutations(current.uri).find((x) => x.what === m.what)!.uri;
            copy.replaceAll(name, els.map((e, j) => (j === i ? formatNameAddr({ ...current, uri: changed }) : e)));
            return copy;
          },
        });
      }
    }
  }
  return out;
}

function headerMutation(what: string, change: (copy: SipMessage) => void): Mutation {
  return {
    what,
    apply: (message) => {
      const copy = message.clone();
      change(copy);
      return copy;
    },
  };
}

function contactMutations(): Mutation[] {
  const base = (message: SipMessage): NameAddr => parseNameAddr(message.getAll('contact')[0]!);
  return uriMutationsOf('contact', base, (message, changed) => message.set('contact', formatNameAddr({ ...base(message), uri: changed })));
}

function requestUriMutations(): Mutation[] {
  return uriMutationsOf('request-uri', (message) => ({ uri: parseSipUri((message as SipRequest).uri), params: [] }), (message, changed) => ((message as SipRequest).uri = formatSipUri(changed)));
}

/** The URI mutations of one URI-valued place, enumerated for the URI of a sample message at use. */
function uriMutationsOf(label: string, read: (m: SipMessage) => NameAddr, write: (m: SipMessage, uri: SipUri) => void): Mutation[] {
  const names = ['scheme', 'host', 'port', 'user', 'user removed', 'user added', 'param added'];
  return names.map((what) =>
    headerMutation(`${label}: ${what}`, (copy) => {
      const found = uriMutations(read(copy).uri).find((x) => x.what === what);
      if (found) write(copy, found.uri);
    }),
  ).concat(
    ['transport', 'maddr', 'x-p', 'ob', 'expires', 'lr'].flatMap((param) =>
      ['removed', 'changed'].map((how) =>
        headerMutation(`${label}: param ${param} ${how}`, (copy) => {
          const found = uriMutations(read(copy).uri).find((x) => x.what === `param ${param} ${how}`);
          if (found) write(copy, found.uri);
        }),
      ),
    ),
  );
}

const setTag = (header: 'from' | 'to') => (copy: SipMessage): void => {
  const entry = parseNameAddr(copy.get(header)!);
  copy.set(header, formatNameAddr({ ...entry, params: entry.params.map((p) => (p.name.toLowerCase() === 'tag' ? { name: p.name, value: `${p.value}q` } : p)) }));
};

// ---- checking -------------------------------------------------------------------------------------------------

function locate(message: SipMessage, kind: SignatureKind, header: SignatureLocation['header']): SignatureLocation {
  const found = findSignatures(message).filter((s) => s.header === header && s.value.split('.')[1] === { via: 'via', 'record-route': 'rr', 'route-set-callee': 'rse', 'route-set-caller': 'rsr' }[kind]);
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
}


function viaFieldMutations(v: Via): Array<{ what: string; via: Via }> {
  const out: Array<{ what: string; via: Via }> = [
    { what: 'transport', via: { ...v, transport: v.transport === 'UDP' ? 'TCP' : 'UDP' } },
    { what: 'host', via: { ...v, host: bumpHost(v.host) } },
    { what: 'port', via: { ...v, port: v.port === undefined ? 5060 : v.port === 65535 ? 1 : v.port + 1 } },
  ];
  for (const m of paramMutations(v.params, (params) => out.push({ what: '', via: { ...v, params } }), new Set())) {
    const before = out.length;
    m.run();
    out[before]!.what = m.what;
  }
  return out;
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
  it(`over ${sets} generated header sets: legal re-serialisations verify, every single-field change of a covered item is detected`, () => {
    const stats: Stats = { sets: 0, elements: 0, elementMutations: 0, endToEndSets: 0, reserialised: 0, mutations: 0, detected: 0, unchanged: 0 };
    const ring = new KeyRing({ now: () => 1_800_000_000_000 });
    const keys = { via: ring.signingKey('via'), rr: ring.signingKey('record-route'), rs: ring.signingKey('route-set') };
    const options = (peer?: string) => ({ keys: ring, now: 1_800_000_000_000, ...(peer !== undefined ? { peer } : {}) });

    for (let seed = 1; seed <= sets; seed++) {
      const r = rng(seed);
      stats.sets++;
      elementLevel(r, seed, stats);
      if (seed % endToEndEvery === 0) endToEnd(r, seed);
    }
    expect(stats.sets).toBe(sets);
    expect(stats.elementMutations).toBeGreaterThan(sets * 50);
    expect(stats.endToEndSets).toBe(Math.floor(sets / endToEndEvery));
    expect(stats.detected).toBe(stats.mutations);
    expect(stats.mutations).toBeGreaterThan(stats.endToEndSets * 100);
    console.log(
      `signature property test: ${stats.sets} header sets — ${stats.elements} covered elements re-serialised and ${stats.elementMutations} single-field changes all changing the canonical form; ` +
        `${stats.endToEndSets} sets end to end: ${stats.reserialised} re-serialised messages verified, ${stats.detected}/${stats.mutations} single-field changes detected by the verifier`,
    );

    /** Signer → wire → verifier for one generated request, its response and both in-dialog requests. */
    function endToEnd(r: Random, seed: number): void {
      stats.endToEndSets++;
      const { request, peer, flags } = generate(r);
      signRecordRoute(request, keys.rr, 0);
      signRouteSet(request, 'route-set-callee', keys.rs, 0);
      signVia(request, keys.via, [...flags, 'r'], peer);

      const expectValid = (message: SipMessage, kind: SignatureKind, header: SignatureLocation['header'], p?: string): void => {
        const report = checkSignature(message, locate(message, kind, header), options(p));
        if (report.verdict !== 'valid') throw new Error(`seed ${seed}: ${kind} in ${header} is ${report.verdict} (${report.note}) after a legal re-serialisation:\n${message.toString()}`);
        stats.reserialised++;
      };
      const expectDetected = (message: SipMessage, mutation: Mutation, watch: Array<[SignatureKind, SignatureLocation['header']]>, p?: string): void => {
        const mutated = mutation.apply(message);
        if (mutation.peer === undefined && mutated.toString() === message.toString()) {
          stats.unchanged++; // nothing to change here (a parameter this URI does not have)
          return;
        }
        const legal = mutated;
        for (const [kind, header] of watch) {
          const location = findSignatures(legal).find((s) => s.header === header && s.value.split('.')[1] === { via: 'via', 'record-route': 'rr', 'route-set-callee': 'rse', 'route-set-caller': 'rsr' }[kind]);
          if (!location) continue; // the change removed the element carrying it: the verifier reports it missing
          const report = checkSignature(legal, location, options(mutation.peer ?? p));
          stats.mutations++;
          if (report.verdict === 'valid') throw new Error(`seed ${seed}: "${mutation.what}" was not detected by the ${kind} signature in ${header}:\n${legal.toString()}`);
          stats.detected++;
        }
      };

      // 1. Where the request is signed (and where Bob receives it, and echoes it in his response).
      const wire = reserialize(r, request);
      expectValid(wire, 'via', 'Via', peer);
      expectValid(wire, 'record-route', 'Record-Route');
      expectValid(wire, 'route-set-callee', 'Record-Route');
      const viaCount = request.getAll('via').length;
      const rrCount = request.getAll('record-route').length;
      const viaWatch: Array<[SignatureKind, SignatureLocation['header']]> = [['via', 'Via']];
      const rrWatch: Array<[SignatureKind, SignatureLocation['header']]> = [['record-route', 'Record-Route'], ['route-set-callee', 'Record-Route']];
      for (const m of [...listMutations('via', 1, viaCount), ...elementMutations(request, 'via', 1, viaCount)]) expectDetected(request, m, viaWatch, peer);
      for (const m of [...listMutations('record-route', 1, rrCount), ...elementMutations(request, 'record-route', 0, rrCount)]) expectDetected(request, m, rrWatch);
      // the signer's own entry: only its signature parameters may change
      for (const m of contactMutations()) expectDetected(request, m, [['route-set-callee', 'Record-Route']]);
      const extras: Array<[CoverFlag, Mutation]> = [
        ['c', headerMutation('call-id', (c) => c.set('call-id', `${c.callId}q`))],
        ['f', headerMutation('from tag', setTag('from'))],
        ['s', headerMutation('cseq number', (c) => c.set('cseq', `${c.cseq.seq + 1} ${c.cseq.method}`))],
        ['s', headerMutation('cseq method', (c) => c.set('cseq', `${c.cseq.seq} OPTIONS`))],
        ['t', headerMutation('to uri', (c) => c.set('to', formatNameAddr({ ...c.to, uri: { ...c.to.uri, host: bumpHost(c.to.uri.host) } })))],
        ['p', { what: 'peer', apply: (m) => m, peer: peer.replace(/:(\d+)$/, (_m, port: string) => `:${(Number(port) % 65535) + 1}`) }],
      ];
      for (const [flag, m] of extras) if (flags.includes(flag)) expectDetected(request, m, viaWatch, peer);
      expectDetected(request, extras[0]![1], [['record-route', 'Record-Route'], ['route-set-callee', 'Record-Route']]);
      expectDetected(request, extras[1]![1], [['route-set-callee', 'Record-Route']]);

      // 2. The callee's in-dialog request: Route = the Record-Route set, Request-URI = the caller's Contact.
      const bye = new SipRequest('BYE', formatSipUri(parseNameAddr(request.getAll('contact')[0]!).uri), []);
      bye.append('via', 'SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bKbye');
      for (const e of request.getAll('record-route')) bye.append('route', e);
      bye.append('from', `${request.get('to')};tag=${token(r, 6)}`);
      bye.append('to', request.get('from')!);
      bye.append('call-id', request.callId);
      bye.append('cseq', '1 BYE');
      expectValid(reserialize(r, bye), 'route-set-callee', 'Route');
      const routeWatch: Array<[SignatureKind, SignatureLocation['header']]> = [['route-set-callee', 'Route']];
      for (const m of [...listMutations('route', 1, rrCount), ...elementMutations(bye, 'route', 0, rrCount), ...requestUriMutations()]) expectDetected(bye, m, routeWatch);
      expectDetected(bye, headerMutation('call-id', (c) => c.set('call-id', `${c.callId}q`)), routeWatch);
      expectDetected(bye, headerMutation('caller tag (To)', setTag('to')), routeWatch);

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
      const callerWatch: Array<[SignatureKind, SignatureLocation['header']]> = [['route-set-caller', 'Record-Route']];
      for (const m of [...listMutations('record-route', 0, downstream), ...elementMutations(response, 'record-route', 0, downstream + 1), ...contactMutations()]) expectDetected(response, m, callerWatch);

      // 4. The caller's in-dialog request, once the proxies before us took their entries off the route.
      const aliceBye = new SipRequest('BYE', formatSipUri(parseNameAddr(response.getAll('contact')[0]!).uri), []);
      aliceBye.append('via', 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKbye');
      for (const e of response.getAll('record-route').slice(0, downstream + 1).reverse()) aliceBye.append('route', e);
      aliceBye.append('from', request.get('from')!);
      aliceBye.append('to', response.get('to')!);
      aliceBye.append('call-id', request.callId);
      aliceBye.append('cseq', '2 BYE');
      expectValid(reserialize(r, aliceBye), 'route-set-caller', 'Route');
      const aliceWatch: Array<[SignatureKind, SignatureLocation['header']]> = [['route-set-caller', 'Route']];
      for (const m of [...listMutations('route', 1, downstream + 1), ...elementMutations(aliceBye, 'route', 0, downstream + 1), ...requestUriMutations()]) expectDetected(aliceBye, m, aliceWatch);
      expectDetected(aliceBye, headerMutation('caller tag (From)', setTag('from')), aliceWatch);
    
    }
  }, 120_000);
});
