import { Worker } from 'node:worker_threads';
import { applyCallLogWrites, type CallRecorder } from '../calllog/call-recorder.js';
import type { LoadCallOutcome, LoadCallProgress } from './call-load.js';
import type { FromLoadWorker, LoadWorkerData, ToLoadWorker } from './load-worker-protocol.js';

/** How long a worker may take to hang up its calls and shut its phone down (Phone.shutdown gives a BYE 8·T1). */
const defaultStopGraceMs = 15_000;

interface PlacedCall {
  progress: LoadCallProgress;
  resolve: (outcome: LoadCallOutcome) => void;
  answered: boolean;
}

interface WorkerSlot {
  worker: Worker;
  /** Calls it is placing, by the load's call number. */
  calls: Map<number, PlacedCall>;
  alive: boolean;
  stopped?: () => void;
}

/**
 * The threads that place a `load` step's calls when it asks for `workers` (load-worker.ts): each gets the next call
 * when it has the fewest running, reports its answer and outcome back, and relays its call-log writes, which are
 * written here into the run's own log. A worker that dies fails its running calls (LOAD_WORKER_FAILED) and gets no
 * more; the load goes on with the others.
 */
export class LoadWorkers {
  private stopping?: Promise<void>;

  private constructor(
    private readonly slots: WorkerSlot[],
    private readonly callLog: CallRecorder | undefined,
    private readonly stopGraceMs: number,
  ) {}

  /**
   * Start `count` workers from `url` (the host's worker entry: the bundled load-worker.mjs, or a loader for the
   * TypeScript sources), each with its own data (its own data dir); resolves once every one's phone is made.
   */
  static async start(url: URL, data: LoadWorkerData[], callLog: CallRecorder | undefined, stopGraceMs = defaultStopGraceMs): Promise<LoadWorkers> {
    const slots: WorkerSlot[] = data.map((workerData) => ({ worker: new Worker(url, { workerData }), calls: new Map(), alive: true }));
    const pool = new LoadWorkers(slots, callLog, stopGraceMs);
    const ready = slots.map((slot) => pool.follow(slot));
    try {
      await Promise.all(ready);
    } catch (error) {
      await pool.terminate();
      throw error;
    }
    return pool;
  }

  /** Place call number `call` on the worker with the fewest calls running; its outcome when it is over. */
  place(call: number, progress: LoadCallProgress): Promise<LoadCallOutcome> {
    if (this.stopping) return Promise.resolve({ established: false, error: 'LOAD_WORKER_FAILED' });
    let slot: WorkerSlot | undefined;
    for (const candidate of this.slots) if (candidate.alive && (slot === undefined || candidate.calls.size < slot.calls.size)) slot = candidate;
    if (slot === undefined) return Promise.resolve({ established: false, error: 'LOAD_WORKER_FAILED' });
    const chosen = slot;
    return new Promise((resolve) => {
      chosen.calls.set(call, { progress, resolve, answered: false });
      chosen.worker.postMessage({ kind: 'place', call } satisfies ToLoadWorker);
    });
  }

  /**
   * Tell every worker to finish: each hangs up what still runs (a load cut by its scenario's timeout), shuts its phone
   * down, hands over its last call-log writes and ends; one that takes longer than the grace is terminated. Once.
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<void> {
    await Promise.all(
      this.slots.map(async (slot) => {
        if (!slot.alive) return;
        const stopped = new Promise<void>((resolve) => (slot.stopped = resolve));
        slot.worker.postMessage({ kind: 'stop' } satisfies ToLoadWorker);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([stopped, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.stopGraceMs)))]);
        clearTimeout(timer);
      }),
    );
    await this.terminate();
  }

  private async terminate(): Promise<void> {
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  /** Route one worker's messages; resolves when its phone is ready, rejects when it could not be made. */
  private follow(slot: WorkerSlot): Promise<void> {
    return new Promise<void>((ready, failed) => {
      // The calls a worker leaves behind: one it reported answered stays answered, the others failed.
      const abandon = (): void => {
        for (const placed of slot.calls.values()) placed.resolve(placed.answered ? { established: true, status: 200 } : { established: false, error: 'LOAD_WORKER_FAILED' });
        slot.calls.clear();
      };
      const lost = (why: string): void => {
        if (!slot.alive) return;
        slot.alive = false;
        failed(new Error(`a load worker could not start: ${why}`));
        abandon();
        slot.stopped?.();
      };
      slot.worker.on('message', (message: FromLoadWorker) => {
        switch (message.kind) {
          case 'ready':
            ready();
            return;
          case 'answered': {
            const placed = slot.calls.get(message.call);
            if (placed === undefined) return;
            placed.answered = true;
            placed.progress.answered(message.setupMs, message.status);
            return;
          }
          case 'done': {
            const call = slot.calls.get(message.call);
            slot.calls.delete(message.call);
            call?.resolve(message.outcome);
            return;
          }
          case 'log':
            if (this.callLog) applyCallLogWrites(this.callLog, message.writes);
            return;
          case 'stopped':
            slot.alive = false;
            abandon();
            slot.stopped?.();
            return;
          case 'failed':
            lost(message.message);
            return;
        }
      });
      slot.worker.on('error', (error) => lost(error.message));
      slot.worker.on('exit', (code) => lost(`it ended with code ${code}`));
    });
  }
}
