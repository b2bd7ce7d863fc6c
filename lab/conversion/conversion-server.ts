import type { MediaError } from '../../core/media/media-error.js';
import { formatSdp, parseSdp } from '../../core/media/sdp.js';
import {
  createResponse,
  formatNameAddr,
  getParam,
  parseHostPort,
  parseNameAddr,
  randomToken,
  withoutParam,
  type NameAddr,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '../../core/sip/message/index.js';
import type { ForwardContext, ProxyHooks } from '../sip-server/sip-proxy.js';
import type { Hop } from '../sip-server/server-transports.js';
import { ConversionTable, ConversionTableError, type ConversionEntry, type ConversionRecord } from './conversion-table.js';

/**
 * Where the conversion server sits (seed 000 Embodiments 2-5): on the caller's server, on the callee's server, on
 * both (Embodiment 4: the caller's converts the identity and SDP, the callee's the Vias and domains — `both` is one
 * server playing whichever of the two roles each call gives it), or at the carrier's top-level domain (Embodiment 5).
 */
export type ConversionPlacement = 'caller-server' | 'callee-server' | 'both' | 'carrier';

/** The conversions of Figs. 10-12, 17, 22 and 27, switchable so two servers can split them (Embodiment 4). */
export type ConversionStep = 'identity' | 'domain' | 'via' | 'call-id' | 'sdp';

export interface ConversionServerOptions {
  placement: ConversionPlacement;
  /** This server's domain (written into From and Call-ID), or the carrier's top-level domain (Embodiment 5). */
  domain: string;
  /** Domains this server serves: a caller or callee in one of them is "ours". */
  localDomains: string[];
  steps?: ConversionStep[];
  poolSize?: number;
  /** An entry no message touched for this long is dropped (a dialog whose BYE never came). */
  maxIdleMs?: number;
  /** How long an ended dialog keeps converting late retransmissions. */
  lingerMs?: number;
  /** How many ended dialogs the operator can still look up (default 1000). */
  historySize?: number;
  /** The dial prefix that asks for an anonymous call (Fig. 31, flag 561). */
  prefix?: string;
}

export interface ConversionCounters {
  converted: number;
  refused: Record<string, number>;
}

const allSteps: ConversionStep[] = ['identity', 'domain', 'via', 'call-id', 'sdp'];
/** Embodiment 4 (Fig. 22): the caller's server converts the identity and the SDP, the callee's the Vias and domains. */
const callerSideSteps: ConversionStep[] = ['identity', 'sdp'];
const calleeSideSteps: ConversionStep[] = ['via', 'domain', 'call-id'];

/**
 * The message conversion server of seed 000 as hooks of the lab proxy (Fig. 4): a request that asks for an anonymous
 * call — the 184 prefix in the Request-URI or the anonymity header (Fig. 31) — is converted before it is forwarded
 * (From user, display and domain, Via, Call-ID domain, SDP o=/c=); the conversion tables restore every response and
 * in-dialog request in both directions, and let the carrier still identify the caller. Anything else passes.
 */
export class ConversionServer implements ProxyHooks {
  readonly table: ConversionTable;
  readonly counters: ConversionCounters = { converted: 0, refused: {} };
  private readonly steps: Set<ConversionStep>;
  private readonly prefix: string;
  private readonly local: Set<string>;

  constructor(private readonly options: ConversionServerOptions) {
    this.steps = new Set(options.steps ?? allSteps);
    this.prefix = options.prefix ?? '184';
    this.local = new Set(options.localDomains.map((d) => hostOf(d)));
    this.table = new ConversionTable({
      ...(options.poolSize !== undefined ? { poolSize: options.poolSize } : {}),
      ...(options.maxIdleMs !== undefined ? { maxIdleMs: options.maxIdleMs } : {}),
      ...(options.lingerMs !== undefined ? { lingerMs: options.lingerMs } : {}),
      ...(options.historySize !== undefined ? { historySize: options.historySize } : {}),
    });
  }

  get placement(): ConversionPlacement {
    return this.options.placement;
  }

  /** Operator view: who is behind each anonymous call now. */
  records(): ConversionRecord[] {
    return this.table.records();
  }

  /** Operator view: dialogs that ended, still kept so a caller can be identified after the call. */
  history(): ConversionRecord[] {
    return this.table.history();
  }

  identify(anonymousUserOrCallId: string): ConversionRecord | undefined {
    return this.table.identify(anonymousUserOrCallId);
  }

  close(): void {
    this.table.close();
  }

  // ---- requests arriving (Fig. 4 steps 22-26): check, strip the prefix, refuse what cannot be converted ----------

  onRequest(request: SipRequest, _inbound: Hop): SipResponse | undefined {
    if (request.method !== 'INVITE' || getParam(request.to.params, 'tag') !== undefined) return undefined;
    const trigger = this.trigger(request);
    if (!trigger) return undefined;
    // An anonymity request whose caller this server cannot read is refused, never passed on unconverted: it may
    // carry the caller's identity in the clear (issue 17: an unbracketed IPv6 domain in P-Preferred-Identity).
    if (this.identityUnreadable(request)) return this.refuse(request, 400, 'Bad Request (unreadable caller identity)', 'BAD_IDENTITY');
    const steps = this.stepsFor(request);
    if (steps.size === 0) return undefined;
    if (trigger === 'prefix') {
      const stripped = this.stripPrefix(request.uri);
      if (stripped === undefined) return this.refuse(request, 484, 'Address Incomplete', 'PREFIX_ONLY');
      request.uri = stripped;
    }
    if (request.body.length > 0 && steps.has('sdp')) {
      try {
        parseSdp(request.body);
      } catch (error) {
        return this.refuse(request, 400, `Bad Request (SDP: ${(error as MediaError).message})`.slice(0, 100), 'BAD_SDP');
      }
    }
    const from = request.from;
    const callerTag = getParam(from.params, 'tag');
    if (callerTag === undefined) return this.refuse(request, 400, 'Bad Request (From without tag)', 'NO_FROM_TAG');
    const realUser = this.realUser(request, from);
    const anonymousFrom = this.anonymousFrom(from, steps);
    try {
      const entry = this.table.add(
        {
          realCallId: request.callId,
          convertedCallId: steps.has('call-id') ? convertCallId(request.callId, this.options.domain) : request.callId,
          callerTag,
          inviteSeq: request.cseq.seq,
          realUser,
          realFrom: formatNameAddr({ ...from, params: withoutParam(from.params, 'tag') }),
          anonymousFrom: '',
          realTo: request.get('to') ?? '',
          convertedTo: this.stripToPrefix(request.get('to') ?? ''),
          steps,
        },
        steps.has('identity'),
      );
      entry.anonymousFrom = anonymousFrom(entry.anonymousUser);
    } catch (error) {
      if (error instanceof ConversionTableError) {
        const reply = this.refuse(request, 503, 'Service Unavailable (anonymous identities exhausted)', 'POOL_EXHAUSTED');
        reply.set('retry-after', '30');
        return reply;
      }
      throw error;
    }
    return undefined;
  }

  // ---- the forwarded copy (Fig. 4 steps 27-32) ---------------------------------------------------------------------

  onForwardRequest(request: SipRequest, context: ForwardContext): void {
    const entry = this.table.find(request.callId);
    if (!entry) return;
    const fromTag = getParam(request.from.params, 'tag');
    const toTag = getParam(request.to.params, 'tag');
    if (fromTag === entry.callerTag) {
      this.convertTowardCallee(request, entry, context);
    } else if (toTag === entry.callerTag) {
      this.restoreTowardCaller(request, entry);
    }
    if (request.method === 'BYE') this.table.end(entry);
  }

  onForwardResponse(response: SipResponse, context: ForwardContext | undefined): boolean | void {
    const entry = this.table.find(response.callId);
    if (!entry) return;
    const fromTag = getParam(response.from.params, 'tag');
    const toTag = getParam(response.to.params, 'tag');
    if (fromTag === entry.callerTag) {
      // The answer to a request the caller sent: everything goes back as the caller wrote it.
      const key = `${response.cseq.seq} ${response.cseq.method}`;
      const vias = entry.erasedVias.get(key) ?? context?.original.getAll('via');
      if (vias && vias.length > 0 && response.getAll('via').length === 0) for (const via of [...vias].reverse()) response.prepend('via', via);
      response.set('from', withTag(entry.realFrom, entry.callerTag));
      response.set('to', keepTag(entry.realTo, response.get('to') ?? ''));
      response.set('call-id', entry.realCallId);
      if (response.cseq.method === 'INVITE' && response.status >= 300 && response.cseq.seq === entry.inviteSeq) this.table.drop(entry);
    } else if (toTag === entry.callerTag) {
      // The caller answers the callee's request: the callee keeps seeing only the anonymous identity.
      response.set('to', withTag(entry.anonymousFrom, entry.callerTag));
      removeInformationalHeaders(response);
      response.set('call-id', entry.convertedCallId);
      if (entry.steps.has('sdp') && response.body.length > 0) response.body = this.convertSdp(response.body, undefined);
    }
    if (response.cseq.method === 'BYE' && response.status >= 200) this.table.end(entry);
  }

  private convertTowardCallee(request: SipRequest, entry: ConversionEntry, context: ForwardContext): void {
    request.set('from', withTag(entry.anonymousFrom, entry.callerTag));
    request.set('to', keepTag(entry.convertedTo, request.get('to') ?? ''));
    request.set('call-id', entry.convertedCallId);
    if (entry.steps.has('via')) {
      // Fig. 17: erase every Via but our own; the originals come back onto the responses.
      const [ours, ...below] = request.getAll('via');
      if (ours !== undefined && below.length > 0) {
        entry.erasedVias.set(`${request.cseq.seq} ${request.method}`, context.original.getAll('via'));
        request.replaceAll('via', [ours]);
      }
    }
    // RFC 3325 §5: an asserted or preferred identity does not leave the trust domain toward an anonymous call's callee.
    request.remove('p-preferred-identity');
    request.remove('p-asserted-identity');
    removeInformationalHeaders(request);
    if (!request.has('privacy')) request.set('privacy', 'id'); // downstream servers and the callee know it is anonymous
    if (entry.steps.has('sdp') && request.body.length > 0) request.body = this.convertSdp(request.body, context.inbound.remote.address);
    if (request.method === 'INVITE' && getParam(request.to.params, 'tag') === undefined) this.counters.converted++;
  }

  private restoreTowardCaller(request: SipRequest, entry: ConversionEntry): void {
    request.set('to', withTag(entry.realFrom, entry.callerTag));
    request.set('call-id', entry.realCallId);
  }

  /** Fig. 12: the SDP o= user becomes "anonymous"; an o=/c= host name becomes the address the request came from. */
  private convertSdp(body: string, sourceAddress: string | undefined): string {
    let sdp;
    try {
      sdp = parseSdp(body);
    } catch {
      return body; // an answer we cannot read is passed on untouched; offers were checked on the way in
    }
    const literal = (host: string): boolean => /^[\d.]+$/.test(host) || host.includes(':');
    sdp.origin = { ...sdp.origin, username: 'anonymous' };
    if (sourceAddress !== undefined) {
      const type = sourceAddress.includes(':') ? ('IP6' as const) : ('IP4' as const);
      if (!literal(sdp.origin.address)) sdp.origin = { ...sdp.origin, address: sourceAddress, addressType: type };
      if (sdp.connection && !literal(sdp.connection.address)) sdp.connection = { addressType: type, address: sourceAddress };
      for (const media of sdp.media) if (media.connection && !literal(media.connection.address)) media.connection = { addressType: type, address: sourceAddress };
    }
    return formatSdp(sdp);
  }

  // ---- decisions ---------------------------------------------------------------------------------------------------

  /** Fig. 31: the 184 prefix (flag 561) or the anonymity header (571: RFC 3323 Privacy, or an anonymous From). */
  private trigger(request: SipRequest): 'prefix' | 'header' | undefined {
    if (this.userOf(request.uri)?.startsWith(this.prefix)) return 'prefix';
    const privacy = (request.get('privacy') ?? '').toLowerCase().split(/[;,]/).map((v) => v.trim());
    if (privacy.some((v) => v === 'id' || v === 'user' || v === 'header')) return 'header';
    const from = request.from;
    if (from.uri.host.toLowerCase() === 'anonymous.invalid') return 'header';
    return undefined;
  }

  /** Embodiments 2-5: what this placement converts in a request (nothing: it only forwards). */
  private stepsFor(request: SipRequest): Set<ConversionStep> {
    const callerOurs = this.local.has(hostOf(this.realIdentity(request)?.uri.host ?? request.from.uri.host));
    const calleeOurs = this.local.has(hostOf(safeHost(request.uri) ?? ''));
    let wanted: ConversionStep[];
    switch (this.options.placement) {
      case 'caller-server':
        wanted = callerOurs ? allSteps : [];
        break;
      case 'callee-server':
        wanted = calleeOurs ? allSteps : [];
        break;
      case 'both':
        wanted = [...(callerOurs ? callerSideSteps : []), ...(calleeOurs ? calleeSideSteps : [])];
        break;
      case 'carrier':
        wanted = allSteps;
        break;
    }
    return new Set(wanted.filter((step) => this.steps.has(step)));
  }

  /** RFC 3325 §9.1/§9.2: a P-Asserted- or P-Preferred-Identity that is not a valid name-addr with a valid host. */
  private identityUnreadable(request: SipRequest): boolean {
    for (const name of ['p-asserted-identity', 'p-preferred-identity']) {
      const value = request.get(name);
      if (value === undefined) continue;
      try {
        const identity = parseNameAddr(value.split(',')[0]!);
        if (identity.uri.scheme !== 'tel') parseHostPort(identity.uri.host);
      } catch {
        return true;
      }
    }
    return false;
  }

  private realIdentity(request: SipRequest): NameAddr | undefined {
    const preferred = request.get('p-asserted-identity') ?? request.get('p-preferred-identity');
    if (preferred === undefined) return undefined;
    try {
      return parseNameAddr(preferred.split(',')[0]!);
    } catch {
      return undefined;
    }
  }

  private realUser(request: SipRequest, from: NameAddr): string {
    const identity = this.realIdentity(request)?.uri ?? from.uri;
    return `${identity.user ?? ''}@${identity.host}`;
  }

  /** Figs. 10, 17, 27: the From display and user become AnonymousN (or "Anonymous"), the domain ours. */
  private anonymousFrom(from: NameAddr, steps: Set<ConversionStep>): (name: string | undefined) => string {
    return (name) => {
      const uri = { ...from.uri, params: [] as NameAddr['params'] };
      if (steps.has('identity')) uri.user = name ?? 'Anonymous';
      if (steps.has('domain')) {
        uri.host = this.options.domain;
        delete uri.port;
      }
      return formatNameAddr({ ...(steps.has('identity') ? { display: 'Anonymous' } : from.display !== undefined ? { display: from.display } : {}), uri, params: [] });
    };
  }

  private stripPrefix(uri: string): string | undefined {
    const match = /^(sips?:)([^@;?]+)(@.*)$/i.exec(uri);
    if (!match || !match[2]!.startsWith(this.prefix)) return uri;
    const rest = match[2]!.slice(this.prefix.length);
    return rest.length === 0 ? undefined : `${match[1]}${rest}${match[3]}`;
  }

  private stripToPrefix(to: string): string {
    try {
      const parsed = parseNameAddr(to);
      const user = parsed.uri.user;
      if (user?.startsWith(this.prefix) && user.length > this.prefix.length) parsed.uri.user = user.slice(this.prefix.length);
      return formatNameAddr({ ...parsed, params: withoutParam(parsed.params, 'tag') });
    } catch {
      return to;
    }
  }

  private userOf(uri: string): string | undefined {
    return /^sips?:([^@;?]+)@/i.exec(uri)?.[1];
  }

  private refuse(request: SipRequest, status: number, reason: string, code: string): SipResponse {
    this.counters.refused[code] = (this.counters.refused[code] ?? 0) + 1;
    return createResponse(request, status, reason, randomToken(10));
  }
}

/** The host of a domain or URI host, without port and brackets, for comparing domains (`[2001:db8::1]:5060` → `2001:db8::1`). */
function hostOf(text: string): string {
  try {
    return parseHostPort(text).host.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return text.toLowerCase(); // compared only: an invalid host matches no domain of ours
  }
}

function safeHost(uri: string): string | undefined {
  return /^sips?:(?:[^@;?]+@)?(\[[^\]]+\]|[^:;?>]+)/i.exec(uri)?.[1];
}

/** Fig. 17/22: the Call-ID's domain part becomes ours (a Call-ID without one names nobody and stays). */
export function convertCallId(callId: string, domain: string): string {
  const at = callId.lastIndexOf('@');
  return at < 0 ? callId : `${callId.slice(0, at)}@${domain}`;
}

function withTag(nameAddr: string, tag: string): string {
  return `${nameAddr};tag=${tag}`;
}

/** `value` with the tag that `current` carries (a To gains the callee's tag in responses and in-dialog requests). */
function keepTag(value: string, current: string): string {
  try {
    const tag = getParam(parseNameAddr(current).params, 'tag');
    return tag === undefined ? value : withTag(value, tag);
  } catch {
    return value;
  }
}

/**
 * RFC 3323 §5.3: the informational headers a caller's agent adds, which may name its user, organisation or program
 * (RFC 5379 Table 1, `user`: delete). Every anonymous call's messages toward the callee lose them, whatever asked for
 * the anonymity (the 184 prefix asks for it whole), so another agent's Organization or Call-Info does not undo it;
 * and Server with them, the program of the caller's answers (RFC 3261 §20.35), as User-Agent is of its requests.
 */
const informationalHeaders = ['subject', 'call-info', 'organization', 'user-agent', 'server', 'reply-to', 'in-reply-to'];

function removeInformationalHeaders(message: SipMessage): void {
  for (const name of informationalHeaders) message.remove(name);
}
