import type { AccountConfig } from '../api/phone-types.js';
import type { CallLogWrite } from '../calllog/call-recorder.js';
import type { SipTimerValues } from '../sip/transport/udp-retransmitter.js';
import type { LoadCallOutcome } from './call-load.js';
import type { LoadCallerOptions } from './load-caller.js';

/**
 * What a load worker (load-worker.ts) is started with: the calling agent's account, as plain data, for a phone of its
 * own on its own sockets, and how to place the load's calls.
 */
export interface LoadWorkerData {
  account: AccountConfig;
  /** Calls at once on the worker's phone. */
  maxCalls: number;
  timers?: SipTimerValues;
  /** The worker phone's own data dir (the ownership journal of its one-time addresses). */
  dataDir?: string;
  caller: LoadCallerOptions;
}

/** From the thread that runs the load to a worker. */
export type ToLoadWorker = { kind: 'place'; call: number } | { kind: 'stop' };

/** From a worker to the thread that runs the load (load-workers.ts). */
export type FromLoadWorker =
  /** The worker's phone is made: it takes calls to place. */
  | { kind: 'ready' }
  | { kind: 'answered'; call: number; setupMs?: number; status?: number }
  | { kind: 'done'; call: number; outcome: LoadCallOutcome }
  /** The phone's writes about its calls, for the run's call log (core/calllog/call-recorder.ts). */
  | { kind: 'log'; writes: CallLogWrite[] }
  /** Every call is over and the phone is shut down: the worker ends. */
  | { kind: 'stopped' }
  /** The phone could not be made. */
  | { kind: 'failed'; message: string };
