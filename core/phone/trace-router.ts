import type { SipTapEntry } from '../sip/transport/message-tap.js';

const callIdPattern = /^(?:call-id|i)[ \t]*:[ \t]*(\S+)/im;

/** The Call-ID of a raw SIP message, without a full parse. */
export function rawCallId(raw: string): string | undefined {
  const headEnd = raw.indexOf('\r\n\r\n');
  return callIdPattern.exec(headEnd >= 0 ? raw.slice(0, headEnd) : raw)?.[1];
}

/**
 * Sends each traced message to the call it belongs to (by Call-ID). An incoming INVITE is traced before the
 * phone knows its call, so recent unclaimed messages are kept briefly and replayed when a call claims its Call-ID.
 * A call keeps receiving for a while after it ends, so the answer to its BYE lands in its trace too.
 */
export class TraceRouter {
  private readonly sinks = new Map<string, (entry: SipTapEntry) => void>();
  private readonly recent: Array<{ callId: string; entry: SipTapEntry }> = [];

  constructor(
    private readonly lingerMs = 32_000,
    private readonly recentLimit = 64,
  ) {}

  readonly tap = (entry: SipTapEntry): void => {
    const callId = rawCallId(entry.raw);
    if (callId === undefined) return;
    const sink = this.sinks.get(callId);
    if (sink) {
      sink(entry);
      return;
    }
    // a refused message never starts a call: kept, it could push out the messages of an INVITE not yet claimed
    if (entry.refused !== undefined) return;
    this.recent.push({ callId, entry });
    if (this.recent.length > this.recentLimit) this.recent.shift();
  };

  claim(callId: string, sink: (entry: SipTapEntry) => void): void {
    this.sinks.set(callId, sink);
    for (let i = 0; i < this.recent.length; ) {
      const item = this.recent[i]!;
      if (item.callId === callId) {
        sink(item.entry);
        this.recent.splice(i, 1);
      } else {
        i++;
      }
    }
  }

  /**
   * Stop routing a Call-ID to `sink` after the linger time (immediately with `now`); a call that claimed the Call-ID
   * since (the same caller's next INVITE) keeps it.
   */
  release(callId: string, sink: (entry: SipTapEntry) => void, now = false): void {
    const stop = (): void => {
      if (this.sinks.get(callId) === sink) this.sinks.delete(callId);
    };
    if (now) stop();
    else setTimeout(stop, this.lingerMs).unref();
  }
}
