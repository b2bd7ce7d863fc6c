import type { SignatureKind, SignatureVerdict } from '../../core/api/signature-types.js';
import { addressTag, getParam, ownCopy, parseNameAddr, viaBranch, type ReadonlyVia, type SipMessage, type SipRequest, type SipResponse, type SipUri } from '../../core/sip/message/index.js';
import {
  allowedFlags,
  checkSignature,
  combineKeySources,
  decodeSignature,
  defaultViaFlags,
  editElement,
  headerSignatureParam,
  KeyRing,
  keyClassOf,
  removeRecordRouteSignature,
  removeRouteSetSignature,
  routeSetSignatureParam,
  SealedKeyOpener,
  sealedKeyParam,
  sealSessionKey,
  signRecordRoute,
  signRouteSet,
  signVia,
  sortedFlags,
  viaPeer,
  type CoverFlag,
  type KeyClass,
  type KeySource,
  type KeyWindow,
  type PoolKeys,
  type SessionKey,
  type SignatureLocation,
  type VerificationKeyFile,
  SigningError,
} from '../../core/signing/index.js';
import { headerView, type HeaderView } from '../../core/signing/header-view.js';
import type { ForwardContext, WireHooks } from '../sip-server/sip-proxy.js';
import type { Hop, Inbound } from '../sip-server/server-transports.js';
import { FailureMonitor, type FailureMonitorSnapshot, type SignatureAlert } from './failure-monitor.js';
import { LinkTrust, type TrustedLink } from './link-trust.js';
import { OwnSignatures, recordRouteTexts, signedRouteSetTexts, usedRouteSetTexts, viaTexts, type SignedTexts } from './own-signatures.js';
import { RecentBranches } from './recent-branches.js';

export interface HeaderSigningOptions {
  /** Trusted server links; every other link (every phone) is untrusted. */
  trusted?: TrustedLink[];
  /** Key rotation and keep windows per family (¶[0060]); defaults in core/signing/key-ring.ts. */
  windows?: Partial<Record<KeyClass, KeyWindow>>;
  /** A pool member: route-set keys travel sealed with these pool keys, and other members' sealed keys are opened. */
  pool?: PoolKeys;
  /** Failures per second that raise an alert (¶[0026]); default 10. */
  threshold?: number;
  /** Claim 9's extras a Via signature covers; default Call-ID, From tag, peer, CSeq and To URI. */
  viaFlags?: CoverFlag[];
  now?: () => number;
}

/** The proxy's own entries, as the proxy itself decides (its domains and ports, or its pool's name). */
export interface ProxyIdentity {
  isOurs(uri: SipUri): boolean;
  isOurVia(host: string, port: number | undefined): boolean;
}

export interface HeaderSigningSnapshot {
  trusted: readonly TrustedLink[];
  /** The signing key of each family now. */
  keys: Record<KeyClass, string>;
  keysHeld: number;
  /** A pool member: sealed keys opened, held now, and purged when the last dialog using one ended (¶[0083] step 1044). */
  pool?: { suite: string; sealedKeysOpened: number; sealedKeysHeld: number; sealedKeysPurged: number };
  signed: Record<SignatureKind, number>;
  unsigned: Record<string, number>;
  verified: Record<KeyClass, number>;
  /** Of those, signatures this proxy recognised as its own, come back over the very texts it signed (no MAC computed). */
  recognised: number;
  /** Record-Route signatures taken out of responses once checked (¶[0055]). */
  recordRouteRemoved: number;
  failures: FailureMonitorSnapshot;
  /** Time spent in the signing and checking of every message (the wire hooks), in µs, and how many messages. */
  work: { messages: number; micros: number };
}

/** One dialog as the proxy sees it in any of its messages: Call-ID and both tags (RFC 3261 §12), in either direction. */
function dialogKey(message: SipMessage): string {
  const tags = [message.from, message.to].map((end) => getParam(end.params, 'tag') ?? '').sort();
  return `${message.callId}|${tags.join('|')}`;
}

/** The hop as a Via signature's peer (claim 9). */
function peerOf(hop: Hop): string {
  return viaPeer(hop.transport, hop.remote.address, hop.remote.port);
}

/**
 * The signing proxy of seed 002 as wire hooks of the lab proxy:
 * - requests leaving over an untrusted link get a Via signature (Fig. 10) and, when this proxy record-routed them,
 *   a Record-Route signature and the callee's route-set signature (Fig. 12);
 * - responses arriving over an untrusted link must carry valid Via and Record-Route signatures (Figs. 11 and 13);
 *   the Record-Route signature is taken out once checked (¶[0055]); on their way on, the callee's route-set signature
 *   is removed and, toward an untrusted link, the caller's is added (Fig. 13 steps 986-992);
 * - in-dialog requests arriving over an untrusted link with this proxy on top of their route must carry a valid
 *   route-set signature (¶[0036], ¶[0045]); a pool member keeps the sealed keys it opened for them while their dialog
 *   lasts and purges them when it ends (¶[0083] steps 1042-1044).
 * What fails is dropped and counted; crossing the per-second threshold raises an alert (¶[0026]).
 */
export class HeaderSigning implements WireHooks {
  readonly ring: KeyRing;
  readonly monitor: FailureMonitor;
  readonly trust: LinkTrust;
  private readonly keys: KeySource;
  private readonly opener: SealedKeyOpener | undefined;
  private readonly sealedByKey = new Map<string, string>();
  private readonly viaFlags: CoverFlag[];
  /** The same with `r`: the request was record-routed and its Record-Route signed by this proxy. */
  private readonly viaFlagsRecordRouted: readonly CoverFlag[];
  private readonly now: () => number;
  private identity: ProxyIdentity | undefined;
  private readonly signed: Record<SignatureKind, number> = { via: 0, 'record-route': 0, 'route-set-callee': 0, 'route-set-caller': 0 };
  private readonly verified: Record<KeyClass, number> = { via: 0, 'record-route': 0, 'route-set': 0 };
  /** Signatures that could not be made, by reason. */
  private readonly unsigned: Record<string, number> = {};
  private recordRouteRemoved = 0;
  private recognisedCount = 0;
  /** The Via and Record-Route signatures this proxy made, to recognise them when a response brings them back untouched. */
  private readonly own: OwnSignatures;
  /**
   * Branches of the requests this proxy record-routed, so their responses are known to set up a dialog; five minutes
   * cover Timer C (3 minutes) and late 2xx retransmissions.
   */
  private readonly recordRouted: RecentBranches;
  /** Responses (to those requests) whose Record-Route set is the new dialog's: the caller's route set is signed in them. */
  private readonly dialogResponses = new WeakSet<SipResponse>();
  /** What signing costs this proxy (the operator's view, and the benchmark's): hook calls and the µs they took. */
  private readonly work = { messages: 0, micros: 0 };

  constructor(private readonly options: HeaderSigningOptions = {}) {
    this.now = options.now ?? Date.now;
    this.recordRouted = new RecentBranches(this.now, 5 * 60_000);
    this.own = new OwnSignatures(this.now);
    this.ring = new KeyRing({ now: this.now, ...(options.windows ? { windows: options.windows } : {}) });
    this.trust = new LinkTrust(options.trusted);
    this.monitor = new FailureMonitor({ now: this.now, ...(options.threshold !== undefined ? { threshold: options.threshold } : {}) });
    this.opener = options.pool ? new SealedKeyOpener(options.pool, { lifetime: (c) => this.ring.lifetime(c) }) : undefined;
    this.keys = this.opener ? combineKeySources(this.ring, this.opener) : this.ring;
    this.viaFlags = options.viaFlags ?? defaultViaFlags;
    // what a Via signature may cover (claim 9); `r` is this proxy's to add, when it record-routed the request
    const refused = this.viaFlags.filter((flag) => flag === 'r' || !allowedFlags.via.has(flag));
    if (refused.length > 0) throw new RangeError(`a Via signature cannot be told to cover ${refused.map((flag) => `"${flag}"`).join(', ')}`);
    this.viaFlagsRecordRouted = sortedFlags([...this.viaFlags, 'r']);
  }

  /** The proxy whose entries these are; set once the proxy exists. */
  attach(identity: ProxyIdentity): void {
    this.identity = identity;
  }

  onAlert(listener: (alert: SignatureAlert) => void): () => void {
    return this.monitor.onAlert(listener);
  }

  /** The keys that verify this proxy's signatures, for phones (docs/signing.md "Key files"). */
  exportKeys(): VerificationKeyFile {
    for (const keyClass of ['via', 'record-route', 'route-set'] as const) this.ring.signingKey(keyClass); // the keys that will sign next, too
    return this.ring.export();
  }

  // ---- validation (Figs. 11 and 13; ¶[0036], ¶[0045]) ------------------------------------------------------

  onReceive(inbound: Inbound): string | undefined {
    return this.timed(() => this.receive(inbound));
  }

  onSendRequest(request: SipRequest, context: ForwardContext): void {
    this.timed(() => this.sendRequest(request, context));
  }

  onSendResponse(response: SipResponse, upstream: Hop): void {
    this.timed(() => this.sendResponse(response, upstream));
  }

  /** Run one hook's work on the clock of `work`. */
  private timed<T>(work: () => T): T {
    const start = performance.now();
    try {
      return work();
    } finally {
      this.work.messages++;
      this.work.micros += (performance.now() - start) * 1000;
    }
  }

  private receive(inbound: Inbound): string | undefined {
    if (!this.identity) return undefined;
    const message = inbound.message;
    try {
      if (message.kind === 'request') return this.trust.isTrusted(inbound.hop) ? undefined : this.checkRequest(message, inbound.hop);
      const vias = message.getAll('via');
      const top = message.topVia;
      if (!top || !this.identity.isOurVia(top.host, top.port)) return undefined; // not through us: the proxy drops it anyway
      const branch = viaBranch(top);
      // Only the response to a request this proxy record-routed carries the Record-Route set it signed (¶[0050]); a
      // user agent may repeat its dialog's Record-Routes in other responses (sip.js does, for re-INVITEs).
      const dialog = branch !== undefined && this.recordRouted.has(branch);
      if (dialog) this.dialogResponses.add(message);
      return this.trust.isTrusted(inbound.hop) ? undefined : this.checkResponse(message, inbound.hop, vias.length, top, dialog);
    } catch (error) {
      // A header the check needs does not parse: nothing it vouches for can be trusted.
      return this.fail(message.kind === 'request' ? 'route-set' : 'via', 'invalid', message, inbound.hop, `unreadable: ${(error as Error).message}`);
    }
  }

  private checkResponse(response: SipResponse, hop: Hop, viaCount: number, top: ReadonlyVia, dialog: boolean): string | undefined {
    const identity = this.identity!;
    const view = headerView(response);
    let recordRouted = dialog;
    // Fig. 11 step 920: with only our Via left, the response ends here (a CANCEL's 200, say): nothing to route.
    if (viaCount > 1) {
      const value = getParam(top.params, headerSignatureParam);
      if (value === undefined) return this.fail('via', 'missing', response, hop, 'our Via carries no signature (Fig. 11 step 924)');
      if (this.recognised(value, 'via', viaTexts(view, 0, peerOf(hop)))) {
        // one of our own, as encodeSignature wrote it: its flags are the field before the MAC's (signature-param.ts)
        const macDot = value.lastIndexOf('.');
        recordRouted ||= value.slice(value.lastIndexOf('.', macDot - 1) + 1, macDot).includes('r');
      } else {
        const location: SignatureLocation = { header: 'Via', placement: 'header-param', index: 0, value };
        const failed = this.check(response, location, hop, 'via');
        if (failed !== undefined) return failed;
        recordRouted ||= decodeSignature(value).flags.includes('r');
      }
    }
    const entries = view.all('record-route');
    if (!recordRouted) {
      // A user agent may echo its dialog's Record-Routes, our signature with them, in other responses (sip.js does for
      // re-INVITEs): nothing here relies on that copy, and like a checked one it goes no further (¶[0055]).
      for (let index = entries.length - 1; index >= 0; index--) {
        let entry;
        try {
          entry = parseNameAddr(entries[index]!);
        } catch {
          continue; // not one of ours to take a signature from; the proxy judges the rest as before
        }
        if (!identity.isOurs(entry.uri) || getParam(entry.params, headerSignatureParam) === undefined) continue;
        removeRecordRouteSignature(response, index);
        this.recordRouteRemoved++;
      }
      return undefined;
    }
    const invite2xx = response.cseq.method === 'INVITE' && response.status >= 200 && response.status < 300;
    if (entries.length === 0 && !invite2xx) return undefined; // a provisional response need not repeat them
    if (this.recognisedRecordRoute(response, view, entries)) return undefined;
    let own = false;
    for (const [index, text] of entries.entries()) {
      const entry = parseNameAddr(text);
      if (!identity.isOurs(entry.uri)) continue;
      own = true;
      const value = getParam(entry.params, headerSignatureParam);
      if (value === undefined) continue;
      if (!this.recognised(value, 'record-route', recordRouteTexts(view, index))) {
        const failed = this.check(response, { header: 'Record-Route', placement: 'header-param', index, value }, hop, 'record-route');
        if (failed !== undefined) return failed;
      }
      // ¶[0055]: checked, the signature has done its job; it goes no further than this proxy
      removeRecordRouteSignature(response, index);
      this.recordRouteRemoved++;
      return undefined;
    }
    // Fig. 13 step 974: our Record-Route came back without its signature — or not at all.
    return this.fail('record-route', 'missing', response, hop, own ? 'our Record-Route carries no signature (Fig. 13 step 974)' : 'our Record-Route is gone');
  }

  private checkRequest(request: SipRequest, hop: Hop): string | undefined {
    if (request.method === 'CANCEL' || addressTag(request.get('to') ?? '') === undefined) return undefined; // only in-dialog requests follow a route set
    const identity = this.identity!;
    const view = headerView(request);
    const routes = view.all('route');
    // The top entry is the one this proxy signed (the callee's first, the caller's last Record-Route entry): when it
    // is recognised as such, the loop below would end the same way, after parsing it.
    const signedTop = this.opener ? undefined : /;vp-rs=([^;>?\s]+)/i.exec(routes[0] ?? '')?.[1];
    if (signedTop !== undefined && this.recognisedRouteSet(signedTop, view, 0, request.uri)) return undefined;
    let ours = false;
    for (const [index, text] of routes.entries()) {
      const entry = parseNameAddr(text);
      if (!identity.isOurs(entry.uri)) break; // only our entries on top of the route concern us
      ours = true;
      const value = getParam(entry.uri.params, routeSetSignatureParam);
      if (value === undefined) continue;
      const sealed = getParam(entry.uri.params, sealedKeyParam);
      const failed = this.recognisedRouteSet(value, view, index, request.uri) ? undefined : this.check(request, { header: 'Route', placement: 'uri-param', index, value, ...(sealed !== undefined ? { sealed } : {}) }, hop, 'route-set');
      // ¶[0083] step 1042: an opened sealed key is kept for the dialog that used it (and purged when it ends, step 1044)
      if (failed === undefined && sealed !== undefined) this.opener?.useInDialog(sealed, dialogKey(request));
      return failed;
    }
    return ours ? this.fail('route-set', 'missing', request, hop, 'our Route entry carries no route-set signature (¶[0040])') : undefined;
  }

  /**
   * A signature this proxy made (`own`) over exactly these texts, its key still verifying: the full check would find
   * the same covered set and the same MAC, so its verdict is "valid" and it is counted as one.
   */
  private recognised(value: string, kind: SignatureKind, texts: SignedTexts): boolean {
    const keyId = this.own.recognise(value, kind, texts);
    const family = keyClassOf(kind);
    if (keyId === undefined || this.keys.resolve(keyId, family, undefined, this.now()).status !== 'found') return false;
    this.verified[family]++;
    this.recognisedCount++;
    return true;
  }

  /**
   * The loop below without parsing, when it would end the same way: the first entry that may carry a Record-Route
   * signature carries one this proxy made, over the very texts it signed (so the entry is its own, as it left). The
   * signature is then cut off as the text it was appended as (header-elements.ts), else through the parser.
   */
  private recognisedRecordRoute(response: SipResponse, view: HeaderView, entries: readonly string[]): boolean {
    const index = entries.findIndex((text) => /vp-sig/i.test(text));
    if (index < 0) return false;
    // the loop parses every entry above the one it checks, and refuses the response when one does not parse
    for (let above = 0; above < index; above++) {
      try {
        parseNameAddr(entries[above]!);
      } catch {
        return false;
      }
    }
    const value = /;vp-sig=([^;,\s]+)$/.exec(entries[index]!)?.[1];
    if (value === undefined || !this.recognised(value, 'record-route', recordRouteTexts(view, index))) return false;
    const appended = `;${headerSignatureParam}=${value}`;
    let cut = false;
    editElement(response, 'record-route', index, (text) => {
      if (!text.endsWith(appended)) return text;
      cut = true;
      return text.slice(0, -appended.length);
    });
    if (!cut) removeRecordRouteSignature(response, index); // ¶[0055]
    this.recordRouteRemoved++;
    return true;
  }

  /** A route-set signature of this proxy's own, brought back by an in-dialog request over the texts it signed. */
  private recognisedRouteSet(value: string, view: HeaderView, index: number, requestUri: string): boolean {
    const kind = this.own.kindOf(value);
    if (kind !== 'route-set-callee' && kind !== 'route-set-caller') return false;
    let texts: SignedTexts;
    try {
      texts = usedRouteSetTexts(view, kind, index, requestUri);
    } catch {
      return false; // a tag that does not read: the full check says why
    }
    return this.recognised(value, kind, texts);
  }

  private check(message: SipMessage, location: SignatureLocation, hop: Hop, family: KeyClass): string | undefined {
    const report = checkSignature(message, location, { keys: this.keys, now: this.now(), peer: peerOf(hop) });
    if (report.verdict === 'valid') {
      this.verified[family]++;
      return undefined;
    }
    return this.fail(family, report.verdict ?? 'invalid', message, hop, report.note, report.kind);
  }

  private fail(family: KeyClass, verdict: SignatureVerdict, message: SipMessage, hop: Hop, note?: string, kind?: SignatureKind): string {
    this.monitor.record({
      at: this.now(),
      family,
      verdict,
      ...(kind !== undefined ? { kind } : {}),
      ...(note !== undefined ? { note } : {}),
      message: `${message.startLine()} (Call-ID ${message.callId})`,
      from: peerOf(hop),
    });
    return `SIGNATURE_${verdict.toUpperCase().replace('-', '_')}`;
  }

  // ---- signing (Figs. 10, 12, 13 and 14) --------------------------------------------------------------------

  private sendRequest(request: SipRequest, context: ForwardContext): void {
    if (request.method === 'ACK') return; // no response comes back
    const recordRoutes = context.recordRoutes ?? 0;
    // Read once for every signature below: the covered sets leave out the signatures they add (covered-items.ts).
    const unsigned = headerView(request);
    if (recordRoutes > 0) this.attempt(() => this.rememberRecordRouted(unsigned));
    if (this.trust.isTrusted(context.outbound)) return; // Fig. 10 step 902
    const recordRouteKey = this.ring.signingKey('record-route');
    let recordRouteSigned: string | undefined;
    let routeSetSigned: string | undefined;
    let routeSetKey: SessionKey | undefined;
    if (recordRoutes > 0) {
      recordRouteSigned = this.attempt(() => signRecordRoute(request, recordRouteKey, 0, undefined, unsigned), 'record-route');
      // ¶[0039]: without a Contact there is no route set to protect
      if (unsigned.one('contact') !== undefined) {
        routeSetKey = this.ring.signingKey('route-set');
        const key = routeSetKey;
        routeSetSigned = this.attempt(() => signRouteSet(request, 'route-set-callee', key, 0, { ...this.sealing(key), view: unsigned }), 'route-set-callee');
      }
    }
    const flags = recordRouteSigned !== undefined ? this.viaFlagsRecordRouted : this.viaFlags;
    const viaKey = this.ring.signingKey('via');
    const peer = peerOf(context.outbound);
    const viaSigned = this.attempt(() => signVia(request, viaKey, flags, peer, unsigned), 'via');
    // What the response and the callee's requests will bring back: the texts as the request leaves. Below its own Via
    // the signatures changed nothing, so the view read before serves the Via's; our Record-Route entry did change.
    if (viaSigned !== undefined) this.own.remember(viaSigned, 'via', viaKey.id, viaTexts(unsigned, 0, peer));
    if (recordRouteSigned === undefined && routeSetSigned === undefined) return;
    const sent = headerView(request, unsigned);
    if (recordRouteSigned !== undefined) this.own.remember(recordRouteSigned, 'record-route', recordRouteKey.id, recordRouteTexts(sent, 0));
    if (routeSetSigned !== undefined) this.rememberRouteSet(routeSetSigned, 'route-set-callee', routeSetKey!, sent, 0);
  }

  private rememberRouteSet(value: string, kind: 'route-set-callee' | 'route-set-caller', key: SessionKey, view: HeaderView, index: number): void {
    const texts = signedRouteSetTexts(view, kind, index);
    if (texts !== undefined) this.own.remember(value, kind, key.id, texts);
  }

  /**
   * A signature that cannot be made (a Contact that does not parse, say) is left out and counted; the message still
   * goes — what it then lacks, the check on its way back reports.
   */
  private attempt<T>(sign: () => T, kind?: SignatureKind): T | undefined {
    try {
      const made = sign();
      if (kind !== undefined && made !== undefined) this.signed[kind]++;
      return made;
    } catch (error) {
      this.unsigned[error instanceof SigningError ? error.code : 'ERROR'] = (this.unsigned[error instanceof SigningError ? error.code : 'ERROR'] ?? 0) + 1;
      return undefined;
    }
  }

  private sendResponse(response: SipResponse, upstream: Hop): void {
    // RFC 3261 §15.1.1: whatever the final answer to a BYE, the dialog is over; ¶[0083] step 1044: its keys can go
    if (this.opener && response.cseq.method === 'BYE' && response.status >= 200) this.opener.dialogEnded(dialogKey(response));
    if (!this.identity || !this.dialogResponses.has(response) || response.status <= 100 || response.status >= 300) return;
    const unsigned = headerView(response); // the caller's route set below leaves out the signatures removed and added here
    const entries = unsigned.all('record-route');
    const own: number[] = [];
    entries.forEach((text, index) => {
      try {
        if (this.identity!.isOurs(parseNameAddr(text).uri)) own.push(index);
      } catch {
        // not ours to sign
      }
    });
    if (own.length === 0) return;
    for (const index of own) if (/vp-rs|vp-key/i.test(entries[index]!)) this.attempt(() => removeRouteSetSignature(response, index)); // Fig. 13 step 986
    if (this.trust.isTrusted(upstream) || unsigned.one('contact') === undefined || !/;\s*tag\s*=/i.test(unsigned.one('to') ?? '')) return;
    const key = this.ring.signingKey('route-set');
    const index = own[own.length - 1]!; // the entry facing the caller
    const signed = this.attempt(() => signRouteSet(response, 'route-set-caller', key, index, { ...this.sealing(key), view: unsigned }), 'route-set-caller');
    if (signed !== undefined) this.rememberRouteSet(signed, 'route-set-caller', key, headerView(response, unsigned), index);
  }

  /** The branch of the proxy's own Via, on top of the request it sends, read as the text the proxy wrote. */
  private rememberRecordRouted(view: HeaderView): void {
    const line = view.one('via') ?? '';
    const comma = line.indexOf(','); // the proxy writes no quoted strings into its Via: a comma ends its element
    const branch = /;\s*branch\s*=\s*([^;\s]+)/i.exec(comma < 0 ? line : line.slice(0, comma))?.[1];
    if (branch !== undefined) this.recordRouted.add(ownCopy(branch));
  }

  /** ¶[0065]: the sealed form of a session key is computed once and kept with the key. */
  private sealing(key: SessionKey): { sealed?: string } {
    const pool = this.options.pool;
    if (!pool) return {};
    let sealed = this.sealedByKey.get(key.id);
    if (sealed === undefined) {
      sealed = sealSessionKey(pool, key);
      this.sealedByKey.set(key.id, sealed);
      for (const id of this.sealedByKey.keys()) if (this.ring.resolve(id, 'route-set', undefined, this.now()).status !== 'found') this.sealedByKey.delete(id);
    }
    return { sealed };
  }

  snapshot(): HeaderSigningSnapshot {
    return {
      trusted: this.trust.links,
      keys: { via: this.ring.signingKey('via').id, 'record-route': this.ring.signingKey('record-route').id, 'route-set': this.ring.signingKey('route-set').id },
      keysHeld: this.ring.size,
      ...(this.options.pool ? { pool: { suite: this.options.pool.suite, sealedKeysOpened: this.opener?.opened ?? 0, sealedKeysHeld: this.opener?.held ?? 0, sealedKeysPurged: this.opener?.purged ?? 0 } } : {}),
      signed: { ...this.signed },
      unsigned: { ...this.unsigned },
      verified: { ...this.verified },
      recognised: this.recognisedCount,
      recordRouteRemoved: this.recordRouteRemoved,
      failures: this.monitor.snapshot(),
      work: { messages: this.work.messages, micros: Math.round(this.work.micros) },
    };
  }
}
