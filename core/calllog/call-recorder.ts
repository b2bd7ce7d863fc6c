import type { SipTapEntry } from '../sip/transport/message-tap.js';
import type { CallLogStore, CallStart, CallUpdate, WriteFailed } from './call-log-store.js';

/** What a phone writes about its calls as they happen: the part of the call log its call control uses. */
export type CallRecorder = Pick<CallLogStore, 'startCall' | 'updateCall' | 'appendMessage'>;

/** One write of a recorder, as plain data (it crosses from a load worker's thread to the one that holds the log). */
export type CallLogWrite =
  | { op: 'start'; call: CallStart }
  | { op: 'update'; id: string; update: CallUpdate }
  | { op: 'message'; callId: string; entry: SipTapEntry };

/**
 * A recorder that keeps no log of its own: it gathers the writes of one event-loop turn and hands them, in order, to
 * `send` (a load worker posts them to the thread whose CallLogStore writes them, applyCallLogWrites). A write that
 * fails there is reported by that store, as its own background work is.
 */
export class CallLogRelay implements CallRecorder {
  private pending: CallLogWrite[] = [];
  private scheduled = false;

  constructor(private readonly send: (writes: CallLogWrite[]) => void) {}

  startCall(call: CallStart, _onFailed?: WriteFailed): void {
    this.queue({ op: 'start', call });
  }

  updateCall(id: string, update: CallUpdate, _onFailed?: WriteFailed): void {
    this.queue({ op: 'update', id, update });
  }

  appendMessage(callId: string, entry: SipTapEntry): void {
    this.queue({ op: 'message', callId, entry });
  }

  /** Hand over what is gathered now (before the worker says it has stopped). */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const writes = this.pending;
    this.pending = [];
    this.send(writes);
  }

  private queue(write: CallLogWrite): void {
    this.pending.push(write);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }
}

/** Write a relay's batch into the log, in its order (the log commits it with its own writes, call-log-store.ts). */
export function applyCallLogWrites(log: CallRecorder, writes: readonly CallLogWrite[]): void {
  for (const write of writes) {
    if (write.op === 'start') log.startCall(write.call);
    else if (write.op === 'update') log.updateCall(write.id, write.update);
    else log.appendMessage(write.callId, write.entry);
  }
}
