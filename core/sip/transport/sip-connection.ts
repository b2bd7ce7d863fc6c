import type { Endpoint, SipTransportKind } from './endpoint.js';

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
  send(message: string): Promise<void>;
  close(): void;
  onMessage: (data: Buffer) => void;
  /** Called once, with the reason when the peer broke the framing or the socket failed. */
  onClose: (error?: Error) => void;
  /** Framing errors that forced a close, by code. */
  readonly rejectCode?: string;
}

let nextConnectionId = 1;

export function newConnectionId(kind: string): string {
  return `${kind}-${nextConnectionId++}`;
}
