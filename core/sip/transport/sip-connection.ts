import type { Endpoint, SipTransportKind } from './endpoint.js';
import type { TlsSessionInfo } from './tls-trust.js';

/**
 * One connection-oriented flow (a TCP connection or a WebSocket) carrying whole SIP messages, whichever side
 * opened it. The lab keeps these per registered contact; a phone identity has exactly one, to its server.
 */
export interface SipConnection {
  readonly id: string;
  readonly transport: Exclude<SipTransportKind, 'udp'>;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  readonly closed: boolean;
  /** TLS and WSS: the session (version, cipher, the peer's certificate fingerprint when it has one). */
  readonly tls?: TlsSessionInfo;
  send(message: string): Promise<void>;
  /**
   * Close, and resolve once the connection is closed at both ends (the peer's FIN seen), or after `graceMs` by a reset:
   * no packet leaves it afterwards, so the local address may be removed next (a one-time address, seed 000 Fig. 28
   * step 515; the kernel would otherwise resend its FIN from an address the phone has discarded).
   */
  close(graceMs?: number): Promise<void>;
  onMessage: (data: Buffer) => void;
  /** Called once, with the reason when the peer broke the framing or the socket failed. */
  onClose: (error?: Error) => void;
  /** Told of each CRLF pong (RFC 5626 §4.4.1); a connection without it cannot be kept alive by CRLF pings. */
  onPong?: () => void;
  /** Framing errors that forced a close, by code. */
  readonly rejectCode?: string;
}

/** How long a closing connection waits for the peer to close its side before it is reset. */
export const closeGraceMs = 1000;

let nextConnectionId = 1;

export function newConnectionId(kind: string): string {
  return `${kind}-${nextConnectionId++}`;
}
