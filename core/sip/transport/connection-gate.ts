import type net from 'node:net';
import { normalizeAddress } from './endpoint.js';

/**
 * What a listener accepts and how long it keeps a connection that gives it nothing to do. The defaults follow
 * Kamailio's core settings: `tcp_max_connections` 2048; `tcp_msg_data_timeout` and `tcp_msg_read_timeout` 20 s (in
 * releases newer than the 5.6 Debian ships). Kamailio's `tcp_connection_lifetime` is 120 s, which is also the longest
 * interval RFC 5626 §4.4.1 lets a phone leave between CRLF keep-alives on a connection-oriented transport; our idle
 * timeout is 300 s so that a flow kept alive that way, or by WebSocket pings, is never cut between two of them. A flow
 * that carries a live registration is kept until that registration expires even when silent (what Kamailio's
 * registrar does for REGISTERs marked with its `tcp_persistent_flag`), so a phone that only re-registers keeps the
 * flow its calls arrive on (RFC 5626 §5.3). A refusal at accept resets the connection; a timeout closes it.
 */
export interface ConnectionLimits {
  /** Accepted connections held at once, every listener of the gate together. */
  maxConnections: number;
  /** Accepted connections held at once from one source address. */
  maxPerSource: number;
  /**
   * Room beyond `maxConnections` that only reserved sources (a phone's own servers) may take: strangers filling the cap
   * do not keep them out. The per-source cap applies to them too.
   */
  reservedConnections: number;
  /** From accept to the first whole message (a WebSocket's HTTP upgrade included). */
  firstMessageTimeoutMs: number;
  /** From the end of the last whole message to the end of one begun since. */
  incompleteMessageTimeoutMs: number;
  /** Without a byte received (a message, a CRLF keep-alive, a WebSocket ping), unless a registration holds the flow. */
  idleTimeoutMs: number;
}

export const defaultConnectionLimits: ConnectionLimits = {
  maxConnections: 2048,
  maxPerSource: 64,
  reservedConnections: 0,
  firstMessageTimeoutMs: 20_000,
  incompleteMessageTimeoutMs: 20_000,
  idleTimeoutMs: 300_000,
};

/** Why a connection was refused at accept or closed by the gate; counted under this code. */
export type ConnectionRefusal =
  | 'TOO_MANY_CONNECTIONS'
  | 'TOO_MANY_FROM_SOURCE'
  | 'FIRST_MESSAGE_TIMEOUT'
  | 'INCOMPLETE_MESSAGE_TIMEOUT'
  | 'IDLE_TIMEOUT';

export interface ConnectionGateOptions {
  limits?: Partial<ConnectionLimits>;
  onRefused?: (code: ConnectionRefusal) => void;
  /** Sources that may take the `reservedConnections` (normalized addresses, as `normalizeAddress` writes them). */
  reserved?: (source: string) => boolean;
  /** Until when (ms since the epoch) a flow must stay open though silent: its registration's expiry. */
  heldUntil?: (connectionId: string) => number | undefined;
}

export interface ConnectionGateSnapshot {
  open: number;
  /** Source addresses with at least one open connection. */
  sources: number;
  limits: ConnectionLimits;
}

/** How far a connection has got: whole messages received, and whether one is half received. */
export interface MessageProgress {
  readonly messages: number;
  readonly midMessage: boolean;
}

/**
 * Admission and timeouts for the connections a server accepts, shared by its TCP and WebSocket listeners. A peer
 * that opens connections and sends nothing, or half a request, would otherwise hold a socket and its buffers for as
 * long as it likes; with caps in total and per source address, one source cannot take them all.
 */
export class ConnectionGate {
  readonly limits: ConnectionLimits;
  private readonly perSource = new Map<string, number>();
  private held = 0;

  constructor(private readonly options: ConnectionGateOptions = {}) {
    this.limits = { ...defaultConnectionLimits, ...options.limits };
  }

  get open(): number {
    return this.held;
  }

  /**
   * A socket was just accepted: a watch on it, or undefined when it is over a limit (it is then reset and the
   * refusal counted).
   */
  admit(socket: net.Socket): ConnectionWatch | undefined {
    const source = normalizeAddress(socket.remoteAddress ?? '');
    const fromSource = this.perSource.get(source) ?? 0;
    const cap = this.limits.maxConnections + (this.options.reserved?.(source) ? this.limits.reservedConnections : 0);
    const refusal: ConnectionRefusal | undefined = fromSource >= this.limits.maxPerSource ? 'TOO_MANY_FROM_SOURCE' : this.held >= cap ? 'TOO_MANY_CONNECTIONS' : undefined;
    if (refusal) {
      this.options.onRefused?.(refusal);
      // Refused and counted: nothing it does from now on matters (a reset peer may still report ECONNRESET).
      socket.on('error', () => undefined);
      socket.resetAndDestroy();
      return undefined;
    }
    this.held++;
    this.perSource.set(source, fromSource + 1);
    socket.once('close', () => {
      this.held--;
      const left = (this.perSource.get(source) ?? 1) - 1;
      if (left > 0) this.perSource.set(source, left);
      else this.perSource.delete(source);
    });
    return new ConnectionWatch(socket, this.limits, (code) => this.options.onRefused?.(code), (id) => this.options.heldUntil?.(id));
  }

  snapshot(): ConnectionGateSnapshot {
    return { open: this.held, sources: this.perSource.size, limits: { ...this.limits } };
  }
}

/**
 * The timeouts of one accepted connection. One timer, armed for the earliest deadline; data only moves the
 * deadlines (re-arming when one comes closer), so a busy flow costs no timer churn.
 */
export class ConnectionWatch {
  /** The SipConnection on this socket, once there is one (a WebSocket's comes after its upgrade). */
  connectionId?: string;
  private readonly acceptedAt = Date.now();
  private lastData = this.acceptedAt;
  private messages = 0;
  /** When the message now half received began (the end of the last whole one), or undefined. */
  private midSince: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;
  private done = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly limits: ConnectionLimits,
    private readonly refused: (code: ConnectionRefusal) => void,
    private readonly heldUntil: (connectionId: string) => number | undefined,
  ) {
    socket.on('data', () => {
      this.lastData = Date.now();
    });
    socket.once('close', () => {
      this.done = true;
      clearTimeout(this.timer);
    });
    this.arm();
  }

  /** After the connection handled received bytes: where its messages stand. */
  progress(state: MessageProgress): void {
    const now = Date.now();
    if (state.messages !== this.messages) {
      this.messages = state.messages;
      this.midSince = state.midMessage ? now : undefined;
    } else if (!state.midMessage) this.midSince = undefined;
    else this.midSince ??= now;
    this.arm();
  }

  private deadline(now: number): { at: number; code: ConnectionRefusal } {
    if (this.messages === 0) return { at: this.acceptedAt + this.limits.firstMessageTimeoutMs, code: 'FIRST_MESSAGE_TIMEOUT' };
    const idle = { at: this.lastData + this.limits.idleTimeoutMs, code: 'IDLE_TIMEOUT' as const };
    if (this.midSince !== undefined) {
      const incomplete = this.midSince + this.limits.incompleteMessageTimeoutMs;
      if (incomplete <= idle.at) return { at: incomplete, code: 'INCOMPLETE_MESSAGE_TIMEOUT' };
    }
    if (idle.at <= now && this.connectionId !== undefined) {
      // A registered flow stays while its registration lives (RFC 5626 §5.3: requests to the phone use it).
      const held = this.heldUntil(this.connectionId);
      if (held !== undefined && held > idle.at) return { at: held, code: 'IDLE_TIMEOUT' };
    }
    return idle;
  }

  private arm(): void {
    if (this.done) return;
    const now = Date.now();
    const { at } = this.deadline(now);
    if (at >= this.armedFor && this.timer) return; // the armed timer fires first and looks again
    clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(() => this.check(), Math.min(Math.max(0, at - now), 2 ** 31 - 1));
    this.timer.unref();
  }

  private check(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    if (this.done) return;
    const now = Date.now();
    const { at, code } = this.deadline(now);
    if (at > now) return this.arm();
    this.done = true;
    this.refused(code);
    this.socket.destroy();
  }
}
