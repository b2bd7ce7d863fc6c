import { EmitterImpl, TransportState, type Emitter, type Transport } from 'sip.js';
import { addressTag, canRespondTo, createResponse, inspectInbound, parseSipMessage, randomToken, viaBranch, type ReadonlyVia, type SipMessage } from '../message/index.js';
import { formatEndpoint, viaTransportToken, type Endpoint } from './endpoint.js';
import { redactTrace } from '../../calllog/trace-redaction.js';
import { RejectCounter, type SipTap } from './message-tap.js';
import type { SipFlow } from './sip-flow.js';
import type { TlsSessionInfo } from './tls-trust.js';
import { phoneUasPolicy, screenUasRequest, type UasPolicy } from './uas-screen.js';
import { defaultSipTimers, UdpRetransmitter, type SipTimerValues } from './udp-retransmitter.js';
import { responseDestination, stampReceived } from './via-routing.js';
import { faultyMessage, sipStackGuard } from '../sip-stack-guard.js';
import { SipJsUnparsedError } from '../sipjs-message-parser.js';
import { preloadOutboundRoute } from '../outbound-route.js';

const transientSendErrors = new Set(['EPERM', 'ENOBUFS', 'EAGAIN', 'EINTR', 'ECONNREFUSED']);

export interface SipJsTransportOptions {
  /** The flow, already open: the identity needs its real local port before the UserAgent exists. */
  flow: SipFlow;
  /** The outbound proxy every request is sent to. */
  server: Endpoint;
  /** The Route naming that proxy, put on every request that has none (RFC 3261 §8.1.2; outbound-route.ts). */
  outboundRoute?: string;
  /** The address our Via names when it is not the bound one (a signaling-only temporary address). */
  advertisedAddress?: string;
  /** Opens the flow again after a connection drop (same local address and port). */
  reopen: () => Promise<SipFlow>;
  tap?: SipTap;
  timers?: SipTimerValues;
  rejects?: RejectCounter;
  /**
   * Where requests outside a dialog may come from (the account's registrar and proxies, addresses resolved); any other
   * source gets 403 and is counted as STRANGER. Absent: from anyone.
   */
  outOfDialogFrom?: readonly Endpoint[];
  /**
   * Whether the user agent holds the dialog a request with a To tag names (RFC 3261 §12.2.2: Call-ID, our tag, theirs).
   * With `outOfDialogFrom`, such a request from any other source that names none is answered 481 here.
   */
  hasDialog?: (callId: string, localTag: string, remoteTag: string) => boolean;
  /** What this user agent does and does not take (RFC 3261 §8.2); the phone's by default. */
  uas?: UasPolicy;
}

/**
 * sip.js's Transport over our own sockets. Beyond moving bytes it fills three gaps between sip.js (written for
 * WebSocket in a browser) and plain SIP:
 * - the sent-by port: sip.js writes a Via host without a port and drops any response whose Via carries one, so
 *   outgoing requests get our real port added (RFC 3261 §18.1.1) and incoming responses have it removed again;
 * - UDP reliability: Timers A, E and G (see UdpRetransmitter);
 * - hostile input: every message is parsed and validated first; bad requests get 400 when they can be answered,
 *   everything else is dropped and counted, and sip.js never sees it;
 * - the UAS checks sip.js lacks (uas-screen.ts), and an Allow header field that says what we really take.
 */
export class SipJsTransport implements Transport {
  readonly protocol: string;
  onConnect: (() => void) | undefined;
  onDisconnect: ((error?: Error) => void) | undefined;
  onMessage: ((message: string) => void) | undefined;
  readonly rejects: RejectCounter;
  private readonly stateEmitter = new EmitterImpl<TransportState>();
  private currentState = TransportState.Disconnected;
  private flow: SipFlow | undefined;
  /** The opening under way (connect): callers meanwhile wait for it. */
  private connecting: Promise<void> | undefined;
  /** Counts disconnects: an opening that finishes after one (the identity disposed meanwhile) gives its flow up. */
  private generation = 0;
  private readonly retransmitter: UdpRetransmitter | undefined;
  private readonly inbox: string[] = [];
  private readonly uas: UasPolicy;
  private draining = false;
  /** A message went to sip.js in the synchronous run now going on (cleared at its end, by a microtask). */
  private handedInThisRun = false;
  private keepAliveSettings: { intervalMs: () => number; pongTimeoutMs: number } | undefined;
  /** Requests that came over a connection a peer opened to our Contact: where their responses go, by transaction. */
  private readonly streamSources = new Map<string, Endpoint>();
  /** Where each INVITE outside a dialog came from, by Call-ID, until its identity takes it (bounded). */
  private readonly inviteSources = new Map<string, Endpoint>();
  /** Call-IDs of anonymous calls, whose messages leave without our User-Agent (the newest 1024). */
  private readonly unnamedCalls = new Set<string>();

  constructor(
    _logger: unknown,
    private readonly options: SipJsTransportOptions,
  ) {
    this.protocol = viaTransportToken(options.flow.transport);
    this.rejects = options.rejects ?? new RejectCounter();
    this.uas = options.uas ?? phoneUasPolicy;
    this.attach(options.flow);
    if (options.flow.transport === 'udp') {
      // A retransmission that cannot be sent is counted; the transaction's own timeout ends it (RFC 3261 §17.1.1.2).
      this.retransmitter = new UdpRetransmitter((raw, remote) => void this.write(raw, remote).catch(() => this.rejects.count('RETRANSMIT_FAILED')), options.timers ?? defaultSipTimers);
    }
  }

  get state(): TransportState {
    return this.currentState;
  }

  get stateChange(): Emitter<TransportState> {
    return this.stateEmitter;
  }

  /** The TLS session of the current flow (TLS, WSS). */
  get tls(): TlsSessionInfo | undefined {
    return this.flow?.tls;
  }

  get local(): Endpoint {
    return this.options.flow.local;
  }

  get retransmissions(): number {
    return this.retransmitter?.retransmissions ?? 0;
  }

  isConnected(): boolean {
    return this.currentState === TransportState.Connected;
  }

  /**
   * Open the flow if it is not. One opening at a time: a second caller (a keep-alive's ping during sip.js's own
   * reconnection) waits for the one under way, rather than opening a second flow from the same port beside it.
   */
  connect(): Promise<void> {
    if (this.currentState === TransportState.Connected) return Promise.resolve();
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async open(): Promise<void> {
    const generation = this.generation;
    this.transition(TransportState.Connecting);
    try {
      if (!this.flow?.connected) {
        const flow = await this.options.reopen();
        if (generation !== this.generation) {
          // disconnected while it opened: a live flow to the server that nothing owns (nor its leased port) otherwise
          await flow.close();
          throw new Error('transport was disconnected while connecting');
        }
        this.attach(flow);
      }
      this.transition(TransportState.Connected);
    } catch (error) {
      // (after a disconnect meanwhile, the transport is already disconnected, by request: no error to report)
      if (generation === this.generation) this.transition(TransportState.Disconnected, error as Error);
      throw error;
    }
  }

  async disconnect(): Promise<void> {
    this.generation++;
    this.connecting = undefined;
    if (this.currentState === TransportState.Disconnected) return;
    this.transition(TransportState.Disconnecting);
    const flow = this.flow;
    this.flow = undefined;
    this.retransmitter?.dispose();
    await flow?.close();
    this.transition(TransportState.Disconnected);
  }

  async dispose(): Promise<void> {
    await this.disconnect();
  }

  async send(message: string): Promise<void> {
    const flow = this.flow;
    if (!flow || this.currentState !== TransportState.Connected) throw new Error('transport is not connected');
    const parsed = parseSipMessage(message);
    // sip.js lists every method it can parse; we say what we take (RFC 3261 §20.5).
    if (parsed.has('allow')) parsed.set('allow', this.uas.allow.join(', '));
    if (this.unnamedCalls.has(parsed.callId)) parsed.remove('user-agent');
    let remote: Endpoint;
    if (parsed.kind === 'request') {
      const via = parsed.topVia;
      if (via && via.port === undefined) parsed.setTopVia({ ...via, port: flow.local.port });
      if (this.options.outboundRoute !== undefined) preloadOutboundRoute(parsed, this.options.outboundRoute);
      remote = this.options.server;
    } else {
      const via = parsed.topVia;
      if (!via) throw new Error('response without Via');
      // RFC 3261 §18.2.2: over a stream, back over the connection the request came on (a peer's to our Contact).
      remote = flow.transport === 'udp' ? responseDestination(via) : (this.streamSources.get(serverTransactionId(via)) ?? this.options.server);
    }
    const raw = parsed.toString();
    try {
      await this.write(raw, remote);
    } catch (error) {
      // A datagram refused locally (a firewall's EPERM, a full buffer) is a lost datagram: Timers A/E/G resend it.
      if (!this.retransmitter || !transientSendErrors.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
      this.rejects.count('SEND_FAILED_TRANSIENT');
    }
    if (!this.retransmitter) return;
    const branch = viaBranch(parsed.topVia!) ?? '';
    if (parsed.kind === 'request') this.retransmitter.requestSent(parsed.method, branch, raw, remote);
    else this.retransmitter.responseSent(serverTransactionId(parsed.topVia!), parsed.cseq.method, parsed.status, raw, remote);
  }

  /** `refused`: this answers a message the transport refused (its code), so the trace files it with that one. */
  private async write(raw: string, remote: Endpoint, refused?: string): Promise<void> {
    const flow = this.flow;
    if (!flow) throw new Error('transport is not connected');
    this.options.tap?.({
      dir: 'out',
      at: Date.now(),
      transport: flow.transport,
      local: formatEndpoint(flow.local),
      remote: formatEndpoint(remote),
      raw: redactTrace(raw), // issue 17: no digest response or SDES key leaves through the tap
      ...(refused !== undefined ? { refused } : {}),
    });
    await flow.send(raw, remote);
  }

  /**
   * Keep the flow to the server alive with CRLF pings (RFC 5626 §4.4.1), this flow and any opened after a drop; a
   * flow that cannot (UDP, WebSocket) is left alone.
   */
  keepAlive(intervalMs: () => number, pongTimeoutMs: number): void {
    this.keepAliveSettings = { intervalMs, pongTimeoutMs };
    this.flow?.keepAlive?.(intervalMs, pongTimeoutMs);
  }

  private attach(flow: SipFlow): void {
    this.flow = flow;
    if (this.keepAliveSettings) flow.keepAlive?.(this.keepAliveSettings.intervalMs, this.keepAliveSettings.pongTimeoutMs);
    flow.onData = (data, remote) => {
      // A socket callback: whatever one message makes our code throw is that message's fault alone — counted, never
      // allowed to end the process (a phone, `serve`, `run`).
      try {
        this.receive(flow, data, remote);
      } catch {
        this.rejects.count('RECEIVE_FAILED');
      }
    };
    flow.onClose = (error) => {
      if (this.flow !== flow) return;
      this.flow = undefined;
      this.transition(TransportState.Disconnected, error);
    };
  }

  private receive(flow: SipFlow, data: Buffer, remote: Endpoint): void {
    const verdict = inspectInbound(data);
    // Judged before it is traced (a retransmitted answer it triggers must come after it in the trace), and judged once.
    const { answered, stranger, refused } = this.judge(flow, verdict, remote);
    if (verdict.message) {
      this.options.tap?.({
        dir: 'in',
        at: Date.now(),
        transport: flow.transport,
        local: formatEndpoint(flow.local),
        remote: formatEndpoint(remote),
        raw: redactTrace(data.toString('utf8')), // issue 17: no digest response or SDES key leaves through the tap
        ...(refused !== undefined ? { refused } : {}),
      });
    }
    if (refused === 'RECEIVE_FAILED') throw new Error('the message could not be judged');
    if (!verdict.ok) {
      this.rejects.count(verdict.error.code);
      if (verdict.reply) void this.write(verdict.reply.toString(), remote, refused).catch(() => this.rejects.count('REPLY_FAILED'));
      return;
    }
    const message = verdict.message;
    const via = message.topVia!;
    if (message.kind === 'response') {
      if (refused !== undefined) {
        this.rejects.count(refused);
        return;
      }
      if (this.retransmitter && !this.retransmitter.responseReceived(viaBranch(via) ?? '', message.cseq.method, message.status)) return;
      const { port: _port, ...withoutPort } = via;
      message.setTopVia(withoutPort);
    } else {
      // A retransmission of a request we answered (a BYE whose 200 was lost, its dialog since gone) gets that answer
      // again, whoever sends it: only the sender of the original knows its branch.
      if (this.retransmitter && !this.retransmitter.requestReceived(message.method, serverTransactionId(via))) return;
      // judged as answered before, but its kept answer ran out since: dropped, unjudged (the sender's next copy is judged)
      if (answered) return;
      if (stranger) {
        this.rejects.count(stranger.counted);
        // once, to the datagram's or connection's real source, whatever its Via says, and never resent (RFC 3261
        // §8.2.7: a stateless answer; its sender's retransmissions get it again)
        if (canRespondTo(message)) void this.write(createResponse(message, stranger.status, stranger.reason, randomToken(10)).toString(), remote, stranger.counted).catch(() => this.rejects.count('REPLY_FAILED'));
        return;
      }
      if (flow.acceptedFrom?.(remote)) remember(this.streamSources, serverTransactionId(via), remote);
      if (flow.transport === 'udp') message.setTopVia(stampReceived(via, remote));
      const answer = screenUasRequest(message, this.uas);
      if (answer) {
        this.rejects.count(`UAS_${answer.status}`);
        void this.send(answer.toString()).catch(() => this.rejects.count('REPLY_FAILED'));
        return;
      }
      if (message.method === 'INVITE' && addressTag(message.get('to') ?? '') === undefined) this.rememberInviteSource(message.callId, remote);
    }
    this.deliver(message.toString());
  }

  /**
   * What becomes of a received message: a request answered before is answered again (`answered`); a stranger's gets a
   * stateless answer (`stranger`); `refused` is the reject code of what the transport throws away (malformed, a
   * response to no Via of ours, a stranger's request), which the trace records with it.
   */
  private judge(flow: SipFlow, verdict: ReturnType<typeof inspectInbound>, remote: Endpoint): { answered: boolean; stranger?: ReturnType<SipJsTransport['strangerAnswer']>; refused?: string } {
    if (!verdict.ok) return { answered: false, refused: verdict.error.code };
    const message = verdict.message;
    try {
      if (message.kind === 'response') return { answered: false, ...(this.viaIsOurs(flow, message) ? {} : { refused: 'VIA_NOT_OURS' }) };
      if (this.answeredBefore(message)) return { answered: true };
      const stranger = this.strangerAnswer(flow, message, remote);
      return { answered: false, ...(stranger ? { stranger, refused: stranger.counted } : {}) };
    } catch {
      return { answered: false, refused: 'RECEIVE_FAILED' }; // traced all the same, then counted by the caller
    }
  }

  /** A response's top Via names one of our addresses (RFC 3261 §18.1.2: else it is discarded). */
  private viaIsOurs(flow: SipFlow, response: SipMessage): boolean {
    const ours = [flow.local.address, this.options.advertisedAddress].filter((a): a is string => a !== undefined);
    return ours.some((a) => bareHostEquals(response.topVia!.host, a));
  }

  /** A retransmission of a request we have answered: it gets that answer again, whoever sends it (receive()). */
  private answeredBefore(request: SipMessage & { kind: 'request' }): boolean {
    return this.retransmitter?.hasAnswered(request.method, serverTransactionId(request.topVia!)) ?? false;
  }

  /**
   * Every message of this call leaves without a User-Agent (an anonymous call: sip.js writes one into each request and
   * response). Kept for the newest 1024 calls, far more than go on at once with their lingering transactions.
   */
  withoutUserAgent(callId: string): void {
    this.unnamedCalls.add(callId);
    if (this.unnamedCalls.size > 1024) this.unnamedCalls.delete(this.unnamedCalls.values().next().value!);
  }

  /**
   * The address and port an INVITE outside a dialog came from (the call log's SIP peer): the server, or a peer that
   * called the Contact directly. Taken once; undefined for a Call-ID this transport has not received an INVITE for.
   */
  takeInviteSource(callId: string): Endpoint | undefined {
    const source = this.inviteSources.get(callId);
    this.inviteSources.delete(callId);
    return source;
  }

  private rememberInviteSource(callId: string, remote: Endpoint): void {
    // Retransmissions and INVITEs sip.js refuses are never taken: keep the newest few only.
    remember(this.inviteSources, callId, remote);
  }

  /**
   * What a stranger (a source other than the account's servers) is answered, when its request never reaches sip.js:
   * - outside a dialog (no To tag; an ACK always belongs to one): 403 (issue 17 item 5: an INVITE claiming to be "Your
   *   Bank", a MESSAGE, never rings, RFC 3261 §21.4.4);
   * - with a To tag naming no dialog we hold: 481 (§12.2.2), the answer sip.js would give, but the same whatever the
   *   Request-URI says (sip.js answers a user it does not know 404 first, which told a stranger holding a one-time
   *   address whose number it is) and without sip.js's User-Agent and Supported, which name the phone.
   * A request in a dialog we hold goes on, from wherever it comes (a peer called directly, a server failed over).
   * Over UDP the source is the datagram's address and port. Our own connection reaches only our server; a connection
   * opened to our Contact is trusted by its address alone (a server connects from a port of its choosing).
   */
  private strangerAnswer(flow: SipFlow, message: SipMessage & { kind: 'request' }, remote: Endpoint): { status: number; reason: string; counted: string } | undefined {
    const trusted = this.options.outOfDialogFrom;
    if (!trusted || message.method === 'ACK') return undefined;
    if (flow.transport !== 'udp' && !flow.acceptedFrom?.(remote)) return undefined;
    const fromServer =
      flow.transport !== 'udp'
        ? trusted.some((source) => bareHostEquals(source.address, remote.address))
        : trusted.some((source) => source.port === remote.port && bareHostEquals(source.address, remote.address));
    if (fromServer) return undefined;
    const toTag = addressTag(message.get('to') ?? ''); // any URI scheme: RFC 4475 §3.3.4
    if (toTag === undefined) return { status: 403, reason: 'Forbidden', counted: 'STRANGER' };
    // A CANCEL with a To tag is one of a request in a dialog (a re-INVITE: §9.1, its To is that request's), so it too
    // must name one of ours. Let through, sip.js answered a stranger's 481 itself, with our User-Agent and Supported,
    // and the answer, every Via of the CANCEL copied, was kept for 64·T1 (attack review: 1,500 of 62 KB took 300 MB).
    if (!this.options.hasDialog) return undefined;
    const fromTag = addressTag(message.get('from') ?? '');
    if (fromTag !== undefined && this.options.hasDialog(message.callId, toTag, fromTag)) return undefined;
    return { status: 481, reason: 'Call/Transaction Does Not Exist', counted: 'STRANGER_NO_DIALOG' };
  }

  /**
   * Hand a message to sip.js now, unless another was handed in this same synchronous run: a stream chunk can hold
   * several messages (an ACK and a re-INVITE back to back), and sip.js settles its ACK handling in a promise and
   * answers a re-INVITE that arrives before that with 500 (RFC 6337 §4.3). Those wait, one per event-loop turn, as
   * do any that arrive while they wait. Each datagram comes in its own socket callback, with promises settled in
   * between, so over UDP every message goes at once: no turn of the event loop between the socket and sip.js.
   */
  private deliver(raw: string): void {
    if (this.draining || this.handedInThisRun) {
      this.inbox.push(raw);
      if (!this.draining) {
        this.draining = true;
        setImmediate(this.drain);
      }
      return;
    }
    this.hand(raw);
  }

  private readonly drain = (): void => {
    const next = this.inbox.shift();
    if (next === undefined) {
      this.draining = false;
      return;
    }
    try {
      this.hand(next);
    } finally {
      // even if reporting a fault threw: the next messages still come
      if (this.inbox.length > 0) setImmediate(this.drain);
      else this.draining = false;
    }
  };

  private hand(raw: string): void {
    if (!this.handedInThisRun) {
      this.handedInThisRun = true;
      queueMicrotask(() => {
        this.handedInThisRun = false; // runs once the synchronous code that handed it (a chunk's loop) is done
      });
    }
    try {
      this.onMessage?.(raw);
    } catch (error) {
      if (error instanceof SipJsUnparsedError) {
        this.unparsed(raw);
        return;
      }
      // sip.js throws on some requests our codec accepted (a Request-URI its grammar refuses, say): that one
      // message is rejected and counted; the transport keeps delivering the next ones, and the call it belongs
      // to, if any, is ended (issue 19 item 1).
      this.rejects.count('SIPJS_REFUSED');
      sipStackGuard.report(error, 'message', faultyMessage(raw));
    }
  }

  /**
   * A message our codec read and sip.js's parser refused (a Contact its grammar cannot read, say): counted, and a
   * request (not an ACK) is answered 400 (RFC 3261 §21.4.1, with a To tag as §8.2.6.2 asks), so its sender stops
   * retransmitting instead of timing out. A response is only counted: it cannot be tied to a transaction of ours
   * without sip.js reading it, and ending a call on its Call-ID alone would let anyone who learnt a Call-ID hang up the
   * call with a forged answer. So a final response that cannot be read still leaves its transaction to Timer B.
   */
  private unparsed(raw: string): void {
    this.rejects.count('SIPJS_UNPARSED');
    let message: SipMessage;
    try {
      message = parseSipMessage(raw);
    } catch {
      return; // our codec read it before: not expected
    }
    if (message.kind === 'request' && message.method !== 'ACK' && canRespondTo(message)) {
      void this.send(createResponse(message, 400, 'Bad Request', randomToken(10)).toString()).catch(() => this.rejects.count('REPLY_FAILED'));
    }
  }

  private transition(next: TransportState, error?: Error): void {
    if (next === this.currentState) return;
    const previous = this.currentState;
    this.currentState = next;
    try {
      this.stateEmitter.emit(next);
      if (next === TransportState.Connected) this.onConnect?.();
      if (next === TransportState.Disconnected && previous !== TransportState.Disconnecting) this.onDisconnect?.(error);
    } catch (fault) {
      // Runs from a socket's callback (a connection closed): what sip.js throws here is caught (issue 19 item 1).
      sipStackGuard.report(fault, 'transport', undefined);
    }
  }
}

/**
 * RFC 3261 §17.2.3: a request matches a server transaction by branch and sent-by (and method), so two peers that
 * pick the same branch (RFC 4475's messages share `z9hG4bKkdjuw` across many hosts) are two transactions.
 */
function serverTransactionId(via: ReadonlyVia): string {
  return `${viaBranch(via) ?? ''}|${via.host.toLowerCase()}:${via.port ?? 5060}`;
}

/** Keep `value` under `key` among the newest 256 only (what was never taken is forgotten). */
function remember(map: Map<string, Endpoint>, key: string, value: Endpoint): void {
  map.delete(key);
  map.set(key, { ...value });
  if (map.size > 256) map.delete(map.keys().next().value!);
}

/** `[2001:db8::1]` and `2001:db8::1` name the same host; so do differently written IPv6 texts of one address. */
function bareHostEquals(viaHost: string, address: string): boolean {
  const host = viaHost.replace(/^\[|\]$/g, '').toLowerCase();
  const other = address.toLowerCase();
  if (host === other) return true;
  if (!host.includes(':') || !other.includes(':')) return false;
  try {
    return new URL(`http://[${host}]/`).hostname === new URL(`http://[${other}]/`).hostname;
  } catch {
    return false;
  }
}
