import { isIP } from 'node:net';
import {
  bareHost,
  createResponse,
  formatSipUri,
  formatVia,
  getParam,
  newBranch,
  parseNameAddr,
  parseSipUri,
  randomToken,
  uriHost,
  uriTransport,
  viaBranch,
  type SipRequest,
  type SipResponse,
  type SipUri,
  type ReadonlyVia,
} from '../../core/sip/message/index.js';
import { defaultPort, isLoopbackAddress, viaTransportToken, type Endpoint, type SipTransportKind } from '../../core/sip/transport/endpoint.js';
import type { SipTimerValues } from '../../core/sip/transport/udp-retransmitter.js';
import { responseDestination, stampReceived } from '../../core/sip/transport/via-routing.js';
import { ClientTransaction } from './client-transaction.js';
import type { DigestAuthenticator } from './digest-auth.js';
import type { Registrar } from './registrar.js';
import { ServerTransaction, serverTransactionKey } from './server-transaction.js';
import type { Hop, Inbound, ServerTransports } from './server-transports.js';

export interface SipProxyOptions {
  /** Hosts that name this proxy's domain in Request-URIs and Route headers. */
  domains: string[];
  /**
   * Other domains and the server that serves each (`domain → {address, port, transport}`): the lab's stand-in for
   * RFC 3263 DNS, so lab proxies for different domains can reach each other without any name lookup.
   */
  peers?: Record<string, { address: string; port: number; transport?: SipTransportKind }>;
  registrar: Registrar;
  transports: ServerTransports;
  timers: SipTimerValues;
  /** Digest authentication of REGISTER (401) and of initial INVITEs from our users (407). */
  auth?: { authenticator: DigestAuthenticator; password: (user: string) => string | undefined; invites: boolean };
  /** Extension points for the conversion server and the signer (seed 000, seed 002). */
  hooks?: ProxyHooks;
  /** The first look at what arrives and the last at what leaves, after every ProxyHooks (the seed 002 signer). */
  wire?: WireHooks;
  /**
   * The host Record-Route entries name instead of this server's address and port: a pool's shared name (seed 002
   * ¶[0061]), so an in-dialog request may reach any member. It must be one of `domains`.
   */
  recordRouteHost?: string;
  /**
   * Transactions held at once, server and client (default 200,000: RFC 3261's timers keep each one up to 32 s, and
   * a saturated lab held about 160,000, measured before an answered INVITE's server transaction stayed its 64·T1 too,
   * RFC 6026 §7.1: at 300 calls/s that adds about 9,600). Beyond it new work is refused statelessly with 503 and Retry-After
   * (§21.5.4); in-dialog requests and CANCEL, which end calls, pass until a tenth more.
   */
  maxTransactions?: number;
}

/** Default of SipProxyOptions.maxTransactions. */
export const defaultMaxTransactions = 200_000;

/** What an extension sees about one forwarded request. */
export interface ForwardContext {
  inbound: Hop;
  outbound: Hop;
  /** The request as it arrived, before this proxy changed it. */
  original: SipRequest;
  /** How many Record-Route entries this proxy put on top of the copy (two when the transport changes, RFC 5658). */
  recordRoutes?: number;
}

/**
 * Seed 002: signatures must cover a message exactly as it goes on the wire and be checked exactly as it came off
 * it, so these run outside every ProxyHooks (after the conversion server rewrote a request, before it restores a
 * response).
 */
export interface WireHooks {
  /** Every parsed message before the proxy acts on it; a returned reason drops it (counted under that reason). */
  onReceive?(inbound: Inbound): string | undefined;
  /** A request about to be sent downstream, after every ProxyHooks.onForwardRequest. */
  onSendRequest?(request: SipRequest, context: ForwardContext): void;
  /** A response about to be sent upstream to `upstream`, after every ProxyHooks.onForwardResponse. */
  onSendResponse?(response: SipResponse, upstream: Hop): void;
}

/** Where a request for one of our domains goes instead of the registrar's binding of its user (seed 001 routing). */
export type RouteDecision =
  /** Fork to every binding of these registered users (a room's terminals, seed 001 ¶[57]); 480 when none is bound. */
  | { users: string[] }
  /** Relay to another server (a room gateway → its gatekeeper, the gatekeeper → a room gateway, ¶[56]), with this Request-URI. */
  | { hop: Hop; uri?: SipUri }
  /** Answer with this status. */
  | { status: number; reason?: string };

/** RFC 3326 §2: why the other branches of a forked INVITE are cancelled once one answered. */
export const completedElsewhereReason = 'SIP;cause=200;text="Call completed elsewhere"';

export interface ProxyHooks {
  /**
   * Routing of a request outside a dialog whose Request-URI has a user (after Route processing, before the registrar's
   * lookup); undefined leaves it to the proxy: the registrar for our domains, a peer otherwise.
   */
  onRoute?(request: SipRequest, ruri: SipUri, inbound: Hop): RouteDecision | undefined;
  /**
   * Every request as it arrived (ACK too), before any transaction or Route processing: a topology-hiding proxy puts back
   * the Route entries and Request-URI it replaced on the way out (seed 001 gatekeeper).
   */
  onArrive?(request: SipRequest, inbound: Hop): void;
  /** Called for every request before routing; return a response to answer it instead of routing. */
  onRequest?(request: SipRequest, inbound: Hop): SipResponse | undefined;
  /** Called on the copy about to be sent downstream, after our Via and Record-Route were added. */
  onForwardRequest?(request: SipRequest, context: ForwardContext): void;
  /**
   * Called on a response about to go upstream, after our Via was removed; return false to drop it. `context` is
   * absent for a 2xx retransmission that arrives after the INVITE transaction ended (forwarded statelessly).
   */
  onForwardResponse?(response: SipResponse, context: ForwardContext | undefined): boolean | void;
}

/** Run several hooks in order (the conversion server, then the signer): any onRequest answer or false wins. */
export function composeHooks(...hooks: Array<ProxyHooks | undefined>): ProxyHooks {
  const list = hooks.filter((h): h is ProxyHooks => h !== undefined);
  return {
    onRequest: (request, inbound) => {
      for (const hook of list) {
        const answer = hook.onRequest?.(request, inbound);
        if (answer) return answer;
      }
      return undefined;
    },
    onArrive: (request, inbound) => {
      for (const hook of list) hook.onArrive?.(request, inbound);
    },
    onRoute: (request, ruri, inbound) => {
      for (const hook of list) {
        const decision = hook.onRoute?.(request, ruri, inbound);
        if (decision) return decision;
      }
      return undefined;
    },
    onForwardRequest: (request, context) => {
      for (const hook of list) hook.onForwardRequest?.(request, context);
    },
    onForwardResponse: (response, context) => {
      for (const hook of [...list].reverse()) if (hook.onForwardResponse?.(response, context) === false) return false;
      return undefined;
    },
  };
}

export interface ProxyCounters {
  requests: number;
  responses: number;
  forwarded: number;
  dropped: Record<string, number>;
  /** Requests refused with 503 because maxTransactions were held. */
  overloaded: number;
}

/** The branches of one forwarded request and the best final response so far (RFC 3261 §16.7). */
interface ProxyContext {
  server: ServerTransaction;
  branches: ClientTransaction[];
  finals: SipResponse[];
  answered: boolean;
  cancelled: boolean;
  forward: Map<string, ForwardContext>;
}

/** A transaction-stateful proxy with a registrar (RFC 3261 §16, §10), used by the embedded lab. */
export class SipProxy {
  readonly counters: ProxyCounters = { requests: 0, responses: 0, forwarded: 0, dropped: {}, overloaded: 0 };
  private readonly servers = new Map<string, ServerTransaction>();
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly contexts = new Map<ServerTransaction, ProxyContext>();
  private readonly domains: Set<string>;

  private readonly peers = new Map<string, { address: string; port: number; transport?: SipTransportKind }>();

  constructor(private readonly options: SipProxyOptions) {
    this.domains = new Set(options.domains.map((d) => bareHost(d).toLowerCase()));
    for (const [domain, target] of Object.entries(options.peers ?? {})) this.addPeer(domain, target);
    options.transports.onMessage = (inbound) => this.receive(inbound);
  }

  /** Route requests for `domain` to another server (a lab peer started after this one). */
  addPeer(domain: string, target: { address: string; port: number; transport?: SipTransportKind }): void {
    this.peers.set(bareHost(domain).toLowerCase(), target);
  }

  get activeTransactions(): { server: number; client: number } {
    return { server: this.servers.size, client: this.clients.size };
  }

  private receive(inbound: Inbound): void {
    try {
      // The ACK of a non-2xx answer of ours ends our INVITE server transaction here (RFC 3261 §17.2.1, hop by hop): it
      // goes nowhere, so the wire's checks are not for it — a signing proxy took its Route, unsigned as the INVITE's,
      // for an in-dialog request's, dropped it and kept retransmitting the 486 (helper 74).
      if (inbound.message.kind === 'request' && this.absorbedAck(inbound.message)) return;
      const refused = this.options.wire?.onReceive?.(inbound);
      if (refused !== undefined) return this.drop(refused);
      if (inbound.message.kind === 'request') {
        this.counters.requests++;
        this.onRequest(inbound.message, inbound.hop);
      } else {
        this.counters.responses++;
        this.onResponse(inbound.message);
      }
    } catch {
      // One message that trips a fault here is dropped and counted; it must never take the server down with it.
      this.drop('PROCESSING_FAILED');
    }
  }

  /** An ACK for a non-2xx final response this proxy sent: absorbed by its server transaction (true), or not one. */
  private absorbedAck(request: SipRequest): boolean {
    const via = request.method === 'ACK' ? request.topVia : undefined;
    if (!via) return false;
    const tx = this.servers.get(serverTransactionKey(via, 'ACK'));
    if (!tx?.lastResponse || tx.lastResponse.status < 300) return false;
    this.counters.requests++;
    tx.onAck();
    return true;
  }

  // ---- requests -------------------------------------------------------------------------------------------

  private onRequest(request: SipRequest, hop: Hop): void {
    request.setTopVia(stampReceived(request.topVia!, hop.remote)); // RFC 3261 §18.2.1, RFC 3581 §4
    this.options.hooks?.onArrive?.(request, hop);
    const key = serverTransactionKey(request.topVia!, request.method);
    if (request.method === 'ACK') {
      const tx = this.servers.get(key);
      if (tx && tx.lastResponse && tx.lastResponse.status >= 300) tx.onAck(); // ACK to our non-2xx: hop by hop
      else this.forwardStateless(request, hop); // ACK to a 2xx: end to end (§16.11 stateless)
      return;
    }
    const existing = this.servers.get(key);
    if (existing) {
      existing.onRetransmission();
      return;
    }
    if (this.overloaded(request)) {
      // §21.5.4: refused statelessly, so a flood of new requests costs this proxy no state.
      this.counters.overloaded++;
      const reply = createResponse(request, 503, 'Service Unavailable (overloaded)', randomToken(10));
      reply.set('retry-after', '5');
      this.send(reply.toString(), hop);
      return;
    }
    const tx = new ServerTransaction(key, request, hop, (raw, to) => this.send(raw, to), this.options.timers, (k) => {
      const ended = this.servers.get(k);
      this.servers.delete(k);
      if (ended) this.contexts.delete(ended);
    });
    this.servers.set(key, tx);
    if (request.method === 'CANCEL') {
      this.onCancel(request, tx);
      return;
    }
    if (request.method === 'INVITE') tx.respond(createResponse(request, 100)); // §16.2: absorb retransmissions early

    const maxForwards = Number(request.get('max-forwards') ?? '70');
    if (maxForwards <= 0) {
      tx.respond(createResponse(request, 483, undefined, randomToken(10)));
      return;
    }
    // §16.3 step 5: this proxy supports no option tag, so any a request asks proxies for is refused (RFC 4475 §3.3.5).
    const proxyRequire = request.getAll('proxy-require');
    if (proxyRequire.length > 0) {
      const reply = createResponse(request, 420, undefined, randomToken(10));
      reply.set('unsupported', proxyRequire.join(', '));
      tx.respond(reply);
      return;
    }
    // Our users' calls are authenticated wherever they go (another domain too: no open relay), and before any hook:
    // the identity a conversion server records for the operator is one that proved itself, and an unauthenticated
    // request cannot hold one of its anonymous names.
    if (!this.authorized(request, tx, 'invite')) return;
    const hooked = this.options.hooks?.onRequest?.(request, hop);
    if (hooked) {
      tx.respond(hooked);
      return;
    }
    this.route(request, tx, maxForwards);
  }

  /** Whether this request would take the proxy past maxTransactions: new work at the limit, the rest a tenth beyond. */
  private overloaded(request: SipRequest): boolean {
    const limit = this.options.maxTransactions ?? defaultMaxTransactions;
    const held = this.servers.size + this.clients.size;
    if (held < limit) return false;
    const endsCalls = request.method === 'CANCEL' || hasToTag(request);
    return !endsCalls || held >= limit * 1.1;
  }

  private route(request: SipRequest, tx: ServerTransaction, maxForwards: number): void {
    // §16.4: remove the Route entries that name us (two of them after a double Record-Route).
    for (;;) {
      const top = request.getAll('route')[0];
      if (top === undefined) break;
      const uri = safeUri(() => parseNameAddr(top).uri);
      if (!uri || !this.isOurs(uri)) break;
      request.shift('route');
    }
    const route = request.getAll('route')[0];
    if (route !== undefined) {
      const uri = safeUri(() => parseNameAddr(route).uri);
      if (!uri) return tx.respond(createResponse(request, 400, 'Bad Request (bad Route)', randomToken(10)));
      return this.forwardTo(request, tx, uri, maxForwards);
    }
    const ruri = safeUri(() => parseSipUri(request.uri));
    if (!ruri) return tx.respond(createResponse(request, 416, undefined, randomToken(10)));
    const decision = request.method !== 'REGISTER' && ruri.user !== undefined && !hasToTag(request) ? this.options.hooks?.onRoute?.(request, ruri, tx.hop) : undefined;
    if (decision) return this.routeAs(decision, request, tx, maxForwards);
    if (!this.isOurs(ruri)) return this.forwardTo(request, tx, ruri, maxForwards);

    if (request.method === 'REGISTER') return this.register(request, tx);
    if (ruri.user === undefined) {
      const reply = createResponse(request, request.method === 'OPTIONS' ? 200 : 404, undefined, randomToken(10));
      reply.set('allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REGISTER');
      return tx.respond(reply);
    }
    const registrar = this.options.registrar;
    if (!registrar.isKnown(ruri.user)) return tx.respond(createResponse(request, 404, undefined, randomToken(10)));
    const bindings = registrar.lookup(ruri.user);
    if (bindings.length === 0) return tx.respond(createResponse(request, 480, undefined, randomToken(10)));
    this.forward(
      request,
      tx,
      bindings.map((b) => ({ hop: b.hop, uri: b.contact.uri })),
      maxForwards,
    );
  }

  private routeAs(decision: RouteDecision, request: SipRequest, tx: ServerTransaction, maxForwards: number): void {
    if ('status' in decision) return tx.respond(createResponse(request, decision.status, decision.reason, randomToken(10)));
    if ('hop' in decision) return this.forward(request, tx, [{ hop: decision.hop, ...(decision.uri ? { uri: decision.uri } : {}) }], maxForwards);
    const bindings = decision.users.flatMap((user) => this.options.registrar.lookup(user));
    if (bindings.length === 0) return tx.respond(createResponse(request, 480, undefined, randomToken(10)));
    this.forward(
      request,
      tx,
      bindings.map((b) => ({ hop: b.hop, uri: b.contact.uri })),
      maxForwards,
    );
  }

  /** Forward to where `uri` leads, or answer 404 when it leads nowhere we can reach (RFC 4475 §3.1.1.2). */
  private forwardTo(request: SipRequest, tx: ServerTransaction, uri: SipUri, maxForwards: number): void {
    const hop = this.hopFor(uri);
    if (!hop) return tx.respond(createResponse(request, 404, `Not Found (no route to ${uri.host.slice(0, 60)})`, randomToken(10)));
    this.forward(request, tx, [{ hop }], maxForwards);
  }

  private register(request: SipRequest, tx: ServerTransaction): void {
    if (!this.authorized(request, tx, 'register')) return;
    tx.respond(this.options.registrar.handleRegister(request, tx.hop));
  }

  /** Digest authentication (RFC 3261 §22.2 for REGISTER: 401; §22.3 for proxies: 407). */
  private authorized(request: SipRequest, tx: ServerTransaction, kind: 'register' | 'invite'): boolean {
    const auth = this.options.auth;
    if (!auth) return true;
    if (kind === 'invite' && (!auth.invites || request.method !== 'INVITE' || hasToTag(request))) return true;
    // RFC 3325 §9.2: an anonymous caller names itself in P-Preferred-Identity; that is the identity to prove.
    const claimed = kind === 'invite' ? (this.preferredIdentity(request) ?? request.from.uri) : request.from.uri;
    const fromUser = claimed.user;
    const fromOurs = fromUser !== undefined && this.isOurs(claimed) && this.options.registrar.isKnown(fromUser);
    if (kind === 'invite' && !fromOurs) return true;
    const header = request.get(kind === 'register' ? 'authorization' : 'proxy-authorization');
    const result = auth.authenticator.verify(header, request.method, auth.password);
    const expectedUser = kind === 'register' ? request.to.uri.user : fromUser;
    if (result !== undefined && result !== 'stale' && result === expectedUser) {
      // Credentials for our realm stop here (RFC 3261 §22.3): forwarding them would name the caller downstream.
      if (kind === 'invite') request.remove('proxy-authorization');
      return true;
    }
    const status = kind === 'register' ? 401 : 407;
    const reply = createResponse(request, status, undefined, randomToken(10));
    reply.set(status === 401 ? 'www-authenticate' : 'proxy-authenticate', auth.authenticator.challenge(result === 'stale'));
    tx.respond(reply);
    return false;
  }

  private preferredIdentity(request: SipRequest): SipUri | undefined {
    const value = request.get('p-preferred-identity');
    if (value === undefined) return undefined;
    return safeUri(() => parseNameAddr(value.split(',')[0]!).uri);
  }

  /** §16.6: one branch per target, each with our Via, a decremented Max-Forwards and (for INVITE) Record-Route. */
  private forward(request: SipRequest, tx: ServerTransaction, targets: Array<{ hop: Hop; uri?: SipUri }>, maxForwards: number): void {
    const context: ProxyContext = { server: tx, branches: [], finals: [], answered: false, cancelled: false, forward: new Map() };
    this.contexts.set(tx, context);
    for (const target of targets) {
      const copy = request.clone();
      if (target.uri) copy.uri = formatSipUri(target.uri);
      copy.set('max-forwards', String(maxForwards - 1));
      const out = target.hop;
      const recordRoutes = request.method === 'INVITE' && !hasToTag(request) ? this.recordRoute(copy, tx.hop.transport, out.transport) : 0;
      const local = this.options.transports.local(out.transport);
      if (!local) {
        context.finals.push(createResponse(request, 503, `Service Unavailable (no ${out.transport} listener)`, randomToken(10)));
        continue;
      }
      const branch = newBranch();
      copy.prepend('via', formatVia({ transport: viaTransportToken(out.transport), host: uriHost(local.address), port: local.port, params: [{ name: 'branch', value: branch }, { name: 'rport' }] }));
      const forwardContext: ForwardContext = { inbound: tx.hop, outbound: out, original: request, recordRoutes };
      this.options.hooks?.onForwardRequest?.(copy, forwardContext);
      this.options.wire?.onSendRequest?.(copy, forwardContext);
      context.forward.set(branch, forwardContext);
      const client = new ClientTransaction(
        branch,
        copy,
        out,
        (raw, to) => this.send(raw, to),
        this.options.timers,
        (response, ctx) => this.onBranchResponse(context, response, ctx),
        (ctx) => this.onBranchResponse(context, createResponse(ctx.request, 408, undefined, randomToken(10)), ctx),
        (ctx) => this.clients.delete(clientKey(ctx.branch, ctx.request.method)),
      );
      context.branches.push(client);
      this.clients.set(clientKey(branch, copy.method), client);
      this.counters.forwarded++;
      client.start();
    }
    if (context.branches.length === 0) this.finish(context);
  }

  /** RFC 3261 §16.6 step 4, with RFC 5658 double Record-Route when the transport changes. */
  private recordRoute(request: SipRequest, inbound: SipTransportKind, outbound: SipTransportKind): number {
    const entry = (transport: SipTransportKind, double: boolean): string => {
      const local = this.options.transports.local(transport)!;
      const hostPort = this.options.recordRouteHost ?? `${uriHost(local.address)}:${local.port}`;
      return `<sip:${hostPort};transport=${transport};lr${double ? ';r2=on' : ''}>`;
    };
    const double = inbound !== outbound;
    request.prepend('record-route', entry(inbound, double));
    if (double) request.prepend('record-route', entry(outbound, true));
    return double ? 2 : 1;
  }

  private onCancel(cancel: SipRequest, tx: ServerTransaction): void {
    const invite = this.servers.get(serverTransactionKey(cancel.topVia!, 'INVITE'));
    if (!invite) {
      tx.respond(createResponse(cancel, 481, undefined, randomToken(10))); // §16.10: no matching transaction
      return;
    }
    tx.respond(createResponse(cancel, 200, undefined, randomToken(10)));
    const context = this.contexts.get(invite);
    if (!context || invite.hasFinal) return;
    context.cancelled = true;
    for (const branch of context.branches) branch.cancel();
    if (context.branches.every((b) => b.state === 'terminated')) {
      invite.respond(createResponse(invite.request, 487, undefined, randomToken(10)));
    }
  }

  // ---- responses ------------------------------------------------------------------------------------------

  private onResponse(response: SipResponse): void {
    const via = response.topVia!;
    const branch = viaBranch(via) ?? '';
    const client = this.clients.get(clientKey(branch, response.cseq.method));
    if (client) {
      client.receive(response);
      return;
    }
    // A 2xx retransmission after our INVITE transaction ended travels statelessly along the Via (§16.7 step 10).
    if (response.cseq.method === 'INVITE' && response.status >= 200 && response.status < 300 && this.isOurVia(via.host, via.port)) {
      response.shift('via');
      if (this.options.hooks?.onForwardResponse?.(response, undefined) === false) return this.drop('HOOK');
      const next = response.topVia;
      if (!next) return this.drop('NO_VIA');
      const transport = next.transport.toLowerCase() as SipTransportKind;
      // §18.2.2: the lab resolves no names (RFC 3263), so a sent-by that is not an address cannot be reached.
      const remote = safeDestination(next);
      if (!remote) return this.drop('UNROUTABLE_VIA');
      const upstream: Hop = { transport, remote };
      this.options.wire?.onSendResponse?.(response, upstream);
      void this.send(response.toString(), upstream);
      return;
    }
    this.drop('NO_TRANSACTION');
  }

  private onBranchResponse(context: ProxyContext, response: SipResponse, client: ClientTransaction): void {
    if (response.topVia && this.isOurVia(response.topVia.host, response.topVia.port)) response.shift('via');
    const status = response.status;
    if (status === 100) return;
    const forwardContext = context.forward.get(client.branch);
    if (forwardContext && this.options.hooks?.onForwardResponse?.(response, forwardContext) === false) return this.drop('HOOK');
    this.options.wire?.onSendResponse?.(response, context.server.hop);
    if (status < 200) {
      if (!context.server.hasFinal) context.server.respond(response);
      return;
    }
    if (status < 300) {
      const first = !context.answered;
      context.answered = true;
      if (first) {
        // §16.7 step 10, with RFC 3326's Reason so the other phones show "answered elsewhere", not a missed call
        if (client.isInvite) for (const other of context.branches) if (other !== client) other.cancel(completedElsewhereReason);
        context.server.respond(response);
        // Nothing more is looked up by the server transaction (a CANCEL now has no effect, §9.2); the branches keep the
        // context for a later fork's 2xx, and the lingering transaction absorbs or answers retransmissions.
        this.contexts.delete(context.server);
      } else if (client.isInvite) {
        void this.send(response.toString(), context.server.hop); // every 2xx to an INVITE goes upstream
      }
      return;
    }
    context.finals.push(response);
    if (context.branches.every((b) => b.state === 'terminated' || b.state === 'completed')) this.finish(context);
  }

  /** §16.7 step 6: the best final response among the branches: any 6xx, else the lowest class. */
  private finish(context: ProxyContext): void {
    if (context.server.hasFinal || context.answered) return;
    const finals = context.finals;
    const best =
      finals.find((r) => r.status >= 600) ??
      [...finals].sort((a, b) => Math.floor(a.status / 100) - Math.floor(b.status / 100) || a.status - b.status)[0] ??
      createResponse(context.server.request, context.cancelled ? 487 : 408, undefined, randomToken(10));
    context.server.respond(best);
    if (context.server.method !== 'INVITE') this.contexts.delete(context.server);
  }

  // ---- stateless forwarding and helpers --------------------------------------------------------------------

  private forwardStateless(request: SipRequest, hop: Hop): void {
    for (;;) {
      const top = request.getAll('route')[0];
      if (top === undefined) break;
      const uri = safeUri(() => parseNameAddr(top).uri);
      if (!uri || !this.isOurs(uri)) break;
      request.shift('route');
    }
    const route = request.getAll('route')[0];
    const uri = safeUri(() => (route !== undefined ? parseNameAddr(route).uri : parseSipUri(request.uri)));
    if (!uri) return this.drop('ACK_NOWHERE');
    if (route === undefined && this.isOurs(uri)) return this.forwardAckToContacts(request, uri, hop);
    const out = this.hopFor(uri);
    if (!out) return this.drop('UNROUTABLE');
    const local = this.options.transports.local(out.transport);
    if (!local) return this.drop('NO_LISTENER');
    const mf = Number(request.get('max-forwards') ?? '70');
    if (mf <= 0) return this.drop('MAX_FORWARDS');
    request.set('max-forwards', String(mf - 1));
    request.prepend('via', formatVia({ transport: viaTransportToken(out.transport), host: uriHost(local.address), port: local.port, params: [{ name: 'branch', value: newBranch() }] }));
    const context: ForwardContext = { inbound: hop, outbound: out, original: request };
    this.options.hooks?.onForwardRequest?.(request, context);
    this.options.wire?.onSendRequest?.(request, context);
    void this.send(request.toString(), out);
  }

  /**
   * An ACK for a 2xx addressed to an address-of-record of ours, with no Route: a UA that ignores Record-Route (SIPp's
   * built-in uac) sends it to the Request-URI of its INVITE. It goes where a BYE with that Request-URI goes, to the
   * user's registered contacts (RFC 3261 §16.5, §16.6 step 2); dropped, the callee retransmits its 2xx for 64·T1.
   */
  private forwardAckToContacts(request: SipRequest, aor: SipUri, hop: Hop): void {
    const user = aor.user;
    const contacts = user !== undefined && this.options.registrar.isKnown(user) ? this.options.registrar.lookup(user).map((b) => b.contact.uri) : [];
    const targets = contacts.filter((contact) => !this.isOurs(contact));
    if (targets.length === 0) return this.drop('ACK_NOWHERE');
    for (const contact of targets) {
      const copy = request.clone();
      copy.uri = formatSipUri(contact);
      this.forwardStateless(copy, hop);
    }
  }

  /**
   * Where a URI leads: a registered contact's own flow first, else its host, port and transport (RFC 3263 §4 without
   * DNS): a peer by its domain, or an address. A name that is neither leads nowhere: the lab resolves no names, and a
   * socket given one would (sending a torture message's `example.com` out to the world). Nor does an address a lab on
   * loopback cannot send to.
   */
  private hopFor(uri: SipUri): Hop | undefined {
    const binding = this.options.registrar.bindingForUri(uri);
    if (binding && (binding.hop.connectionId === undefined || this.options.transports.hasConnection(binding.hop.connectionId))) return binding.hop;
    const peer = this.peers.get(bareHost(uri.host).toLowerCase());
    if (peer) return { transport: peer.transport ?? 'udp', remote: { address: peer.address, port: peer.port } };
    if (isIP(bareHost(uri.host)) === 0) return undefined;
    const transport = (uriTransport(uri) ?? 'udp') as SipTransportKind;
    const known = ['udp', 'tcp', 'ws', 'tls', 'wss'].includes(transport) ? transport : 'udp';
    const remote: Endpoint = { address: bareHost(uri.host), port: uri.port ?? defaultPort(known) };
    // A lab on loopback (the scenario runner's embedded one) reaches only loopback: Linux refuses to send from 127.0.0.1
    // anywhere else (EINVAL), so a request for 10.1.2.3 — a scenario's typo — would wait out its timeout after a 100.
    const local = this.options.transports.local(known);
    if (local && isLoopbackAddress(local.address) && !isLoopbackAddress(remote.address)) return undefined;
    const connection = known === 'udp' ? undefined : this.options.transports.findConnection(known, remote);
    return connection ? { transport: known, remote, connectionId: connection.id } : { transport: known, remote };
  }

  /**
   * A URI names us: one of our domains, with no port or one of our ports. The port matters: phones on the same
   * loopback address are not us (the Kamailio "alias without port" trap of ENVIRONMENT.md).
   */
  isOurs(uri: SipUri): boolean {
    if (!this.domains.has(bareHost(uri.host).toLowerCase())) return false;
    return uri.port === undefined || this.options.transports.isOurPort(uri.port);
  }

  isOurVia(host: string, port: number | undefined): boolean {
    if (!this.domains.has(bareHost(host).toLowerCase())) return false;
    return port === undefined || this.options.transports.isOurPort(port);
  }

  private send(raw: string, hop: Hop): void {
    this.options.transports.send(raw, hop).catch(() => this.drop('SEND_FAILED'));
  }

  private drop(reason: string): void {
    this.counters.dropped[reason] = (this.counters.dropped[reason] ?? 0) + 1;
  }
}

function safeDestination(via: ReadonlyVia): Endpoint | undefined {
  try {
    return responseDestination(via);
  } catch {
    return undefined;
  }
}

function clientKey(branch: string, method: string): string {
  return `${branch}|${method === 'ACK' ? 'INVITE' : method}`;
}

function hasToTag(request: SipRequest): boolean {
  return getParam(request.to.params, 'tag') !== undefined;
}

function safeUri(read: () => SipUri): SipUri | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
