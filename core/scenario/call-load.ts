/**
 * SPEC G, "N parallel calls at a given rate": the scheduling and the statistics of a scenario's `load` step. How one
 * call is made is the caller's business (`placeOne`); this starts them on time, never more than `parallel` at once,
 * counts what came of them every interval (like SIPp's -trace_stat) and sums up. It keeps counts and setup times, never
 * the calls themselves, so a million calls cost a few megabytes.
 */

export interface LoadPlan {
  /** Calls in all; absent when the load runs for `durationMs` (then at most `loadLimits.calls`). */
  calls?: number;
  /** Start calls for this long (ms); with `calls` too, whichever comes first ends the starts. */
  durationMs?: number;
  /** Calls started per second (the first at once). */
  rate: number;
  /** At most this many calls at once: a start that would exceed it waits for a call to end. */
  parallel: number;
}

/** What became of one call of the load. */
export interface LoadCallOutcome {
  established: boolean;
  /** The INVITE's final status (200 for an answered call); absent when none came. */
  status?: number;
  /** INVITE sent → answer received, for an answered call. */
  setupMs?: number;
  /** Why a call could not even be placed: the thrown error's code (TOO_MANY_CALLS, …) or name. */
  error?: string;
}

/** What a call tells the load while it runs: its answer, counted in the interval it came in (not when the call ends). */
export interface LoadCallProgress {
  /** The call was answered: its setup time and the 2xx's status (counted in `statuses` now, not at its end). */
  answered(setupMs: number | undefined, status?: number): void;
}

export interface SetupPercentiles {
  p50: number;
  p95: number;
  p99: number;
}

/** One interval of a running load (every second by default): what happened in it, and where the load stands. */
export interface LoadInterval {
  /** ms since the load began, at the interval's end. */
  elapsedMs: number;
  /** Length of this interval (the last one may be shorter). */
  intervalMs: number;
  started: number;
  answered: number;
  failed: number;
  /** Calls running at the interval's end. */
  running: number;
  /** Calls due by the schedule but not started yet at the interval's end (held back by `parallel` or a busy process). */
  queued: number;
  /** Setup times of the calls answered in this interval. */
  setupMs?: SetupPercentiles;
  totalStarted: number;
  totalAnswered: number;
  totalFailed: number;
}

/** The asked rate against the achieved one: a load that fell behind says so, by how much and why. */
export interface LoadRateReport {
  asked: number;
  /** Calls started per second over the time starts took. */
  achieved: number;
  /** The achieved rate is at least 95 % of the asked one and no start was more than a second behind its schedule. */
  sustained: boolean;
  /** How far behind its schedule the latest start was, at most (ms). */
  maxLagMs: number;
  /** The most calls that were due but not started at once. */
  maxQueued: number;
  /** Starts that had to wait because `parallel` calls were running. */
  heldByParallel: number;
}

export interface LoadSummary {
  attempted: number;
  established: number;
  failed: number;
  /** Calls by the INVITE's final status (`none`: no final response). */
  statuses: Record<string, number>;
  /** Calls that could not be placed at all, by the error's code (they are in `statuses` as `none`). */
  errors?: Record<string, number>;
  /** INVITE → answer over the answered calls, in ms. */
  setupMs?: SetupPercentiles & { max: number };
  /** The most calls that ran at once. */
  peakParallel: number;
  /**
   * Calls still going when the load was stopped early (the run's timeout, or its host's Ctrl-C): the load started no
   * more and did not wait for these, which the run's end hangs up. Those already answered are in `established` and
   * `statuses`; the others in no other count.
   */
  unfinished?: number;
  elapsedMs: number;
  /** Calls started per second, as achieved (lower than the plan when `parallel` or the process held them back). */
  achievedRate: number;
  rate: LoadRateReport;
}

/** Limits of one `load` step (SIPp's scale on this kind of machine; a duration load stops at `calls` too). */
export const loadLimits = { calls: 1_000_000, rate: 2000, parallel: 5000, durationMs: 24 * 3600_000, workers: 16 } as const;

export interface LoadClock {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Call `tick` every `ms` until the returned stop is called. */
  every(ms: number, tick: () => void): () => void;
}

export interface LoadOptions {
  clock?: LoadClock;
  /** Called every `intervalMs` while the load runs, and once for the last part interval. */
  onInterval?: (interval: LoadInterval) => void;
  intervalMs?: number;
  /** Stops the load early: no more calls start, and the summary comes at once, without waiting for those going on. */
  stop?: AbortSignal;
}

/** A start is this late behind its schedule and the rate counts as not sustained. */
const lagToleranceMs = 1000;
/** Starts in a row before the scheduler lets I/O in, when it is catching up. */
const startsPerTurn = 64;

/**
 * Run the plan: call `placeOne(i)` at `i / rate` seconds (or later, when `parallel` calls are running or the process
 * is behind), wait for all, and summarise. A `placeOne` that throws counts as a failed call with no status.
 */
export async function runLoad(plan: LoadPlan, placeOne: (index: number, progress: LoadCallProgress) => Promise<LoadCallOutcome>, options: LoadOptions = {}): Promise<LoadSummary> {
  const clock = options.clock ?? realClock;
  const intervalMs = options.intervalMs ?? 1000;
  const limit = plan.calls ?? loadLimits.calls;
  const statuses: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const setups: number[] = [];
  let intervalSetups: number[] = [];
  const running = new Set<Promise<void>>();
  const totals = { started: 0, answered: 0, failed: 0, ended: 0 };
  const atIntervalStart = { started: 0, answered: 0, failed: 0 };
  let peak = 0;
  let maxLag = 0;
  let maxQueued = 0;
  let heldByParallel = 0;
  const t0 = clock.now();
  let lastIntervalAt = t0;
  let lastStart = t0;
  let startsEnded = false;

  const dueBy = (now: number): number => {
    const byTime = Math.floor(((now - t0) * plan.rate) / 1000) + 1;
    const byDuration = plan.durationMs !== undefined ? Math.ceil((plan.durationMs * plan.rate) / 1000) : Infinity;
    return Math.min(limit, byTime, byDuration);
  };
  const interval = (now: number): LoadInterval => {
    const queued = startsEnded ? 0 : Math.max(0, dueBy(now) - totals.started);
    // a tick can see more calls queued than any start did (starts held by `parallel`): the report's most is the most seen
    maxQueued = Math.max(maxQueued, queued);
    const entry: LoadInterval = {
      elapsedMs: Math.round(now - t0),
      intervalMs: Math.round(now - lastIntervalAt),
      started: totals.started - atIntervalStart.started,
      answered: totals.answered - atIntervalStart.answered,
      failed: totals.failed - atIntervalStart.failed,
      running: running.size,
      queued,
      ...(intervalSetups.length > 0 ? { setupMs: percentiles(intervalSetups.sort((a, b) => a - b)) } : {}),
      totalStarted: totals.started,
      totalAnswered: totals.answered,
      totalFailed: totals.failed,
    };
    Object.assign(atIntervalStart, { started: totals.started, answered: totals.answered, failed: totals.failed });
    intervalSetups = [];
    lastIntervalAt = now;
    return entry;
  };
  const stopTicks = options.onInterval ? clock.every(intervalMs, () => options.onInterval!(interval(clock.now()))) : () => undefined;
  const stop = options.stop;
  const stopped = new Promise<void>((resolve) => (stop?.aborted ? resolve() : stop?.addEventListener('abort', () => resolve(), { once: true })));
  /** `wait`, cut short when the load is stopped. */
  const unlessStopped = (wait: Promise<unknown>): Promise<unknown> => (stop ? Promise.race([wait, stopped]) : wait);

  try {
    let inARow = 0;
    for (let index = 0; index < limit && !stop?.aborted; index++) {
      const offset = (index * 1000) / plan.rate;
      // compared as an offset: t0 + offset - t0 can fall a hair short of it and start one call too many
      if (plan.durationMs !== undefined && offset >= plan.durationMs) break;
      const due = t0 + offset;
      if (clock.now() < due) {
        await unlessStopped(clock.sleep(due - clock.now()));
        inARow = 0;
      } else if (++inARow >= startsPerTurn) {
        await clock.sleep(0);
        inARow = 0;
      }
      if (running.size >= plan.parallel) heldByParallel++;
      while (running.size >= plan.parallel && !stop?.aborted) await unlessStopped(Promise.race(running));
      if (stop?.aborted) break;
      const now = clock.now();
      maxQueued = Math.max(maxQueued, dueBy(now) - index - 1);
      maxLag = Math.max(maxLag, now - due);
      lastStart = now;
      let answered = false;
      const progress: LoadCallProgress = {
        answered: (setupMs, status = 200) => {
          if (answered) return;
          answered = true;
          totals.answered++;
          // counted as it is answered: a call a stop leaves going is in `established`, so in `statuses` too
          statuses[String(status)] = (statuses[String(status)] ?? 0) + 1;
          if (setupMs !== undefined) {
            setups.push(setupMs);
            intervalSetups.push(setupMs);
          }
        },
      };
      totals.started++;
      const call: Promise<void> = placeOne(index, progress)
        .catch((error: unknown): LoadCallOutcome => ({ established: false, error: errorCode(error) }))
        .then((outcome) => {
          if (outcome.error !== undefined) errors[outcome.error] = (errors[outcome.error] ?? 0) + 1;
          if (outcome.established) progress.answered(outcome.setupMs, outcome.status);
          else {
            totals.failed++;
            const key = outcome.status !== undefined ? String(outcome.status) : 'none';
            statuses[key] = (statuses[key] ?? 0) + 1;
          }
          totals.ended++;
          running.delete(call);
        });
      running.add(call);
      peak = Math.max(peak, running.size);
    }
    startsEnded = true;
    const startsMs = lastStart - t0;
    await unlessStopped(Promise.all(running));
    const unfinished = stop?.aborted ? running.size : 0;
    const elapsedMs = clock.now() - t0;
    stopTicks();
    if (options.onInterval && clock.now() > lastIntervalAt) options.onInterval(interval(clock.now()));
    const achieved = totals.started > 1 ? ((totals.started - 1) * 1000) / Math.max(1, startsMs) : Math.min(plan.rate, totals.started);
    const achievedRate = Math.round(Math.min(achieved, plan.rate) * 10) / 10;
    setups.sort((a, b) => a - b);
    return {
      attempted: totals.started,
      established: totals.answered,
      failed: totals.failed,
      // copies: the calls a stop left going still count into these as they end
      statuses: { ...statuses },
      ...(Object.keys(errors).length > 0 ? { errors: { ...errors } } : {}),
      ...(setups.length > 0 ? { setupMs: { ...percentiles(setups), max: setups.at(-1)! } } : {}),
      peakParallel: peak,
      ...(unfinished > 0 ? { unfinished } : {}),
      elapsedMs,
      achievedRate,
      rate: {
        asked: plan.rate,
        achieved: achievedRate,
        sustained: achievedRate >= 0.95 * plan.rate && maxLag <= lagToleranceMs,
        maxLagMs: Math.round(maxLag),
        maxQueued,
        heldByParallel,
      },
    };
  } finally {
    stopTicks();
  }
}

/** Whether a load fell behind, in one line for people (the report carries the numbers). */
export function rateShortfall(id: string, summary: LoadSummary): string | undefined {
  const { rate } = summary;
  if (rate.sustained) return undefined;
  const why = rate.heldByParallel > 0 ? `${rate.heldByParallel} starts waited for one of the ${summary.peakParallel} running calls to end (raise parallel)` : 'this process could not start calls faster';
  return `load ${id}: asked ${rate.asked} calls/s, achieved ${rate.achieved} calls/s; starts fell up to ${rate.maxLagMs} ms behind schedule with up to ${rate.maxQueued} calls queued: ${why}`;
}

/** A thrown error as the code a load counts it by (TOO_MANY_CALLS, …), else its name. */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown';
}

function percentiles(sorted: readonly number[]): SetupPercentiles {
  return { p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), p99: percentile(sorted, 0.99) };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

const realClock: LoadClock = {
  now: () => performance.now(),
  sleep: (ms: number) => new Promise<void>((resolve) => (ms <= 0 ? setImmediate(resolve) : setTimeout(resolve, ms))),
  every: (ms: number, tick: () => void) => {
    const timer = setInterval(tick, ms);
    return () => clearInterval(timer);
  },
};
