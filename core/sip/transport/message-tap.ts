import type { SipTransportKind } from './endpoint.js';

/** One SIP message as it crossed a socket: what the call log and the diagnostics pane record. */
export interface SipTapEntry {
  dir: 'in' | 'out';
  /** Milliseconds since the epoch when the message was handed to (or taken from) the socket. */
  at: number;
  transport: SipTransportKind;
  /** `address:port` of our socket. */
  local: string;
  /** `address:port` of the peer. */
  remote: string;
  /** The message as it crossed the socket, its secrets masked (core/calllog/trace-redaction.ts). */
  raw: string;
  /**
   * Why the transport threw this message away (its RejectCounter code: malformed, a response to no Via of ours, a
   * stranger's request), or, outgoing, that it answered one of those: it reached the SIP stack and no call.
   */
  refused?: string;
}

export type SipTap = (entry: SipTapEntry) => void;

/** Counts of what a receiving socket threw away, by reason code; never a crash. */
export class RejectCounter {
  readonly byCode = new Map<string, number>();
  total = 0;

  count(code: string): void {
    this.total++;
    this.byCode.set(code, (this.byCode.get(code) ?? 0) + 1);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.byCode);
  }
}
