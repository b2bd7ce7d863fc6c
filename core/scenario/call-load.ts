/**
 * SPEC G, "N parallel calls at a given rate": the scheduling and the statistics of a scenario's `load` step. How one
 * call is made is the caller's business (`placeOne`); this starts them on time, never more than `parallel` at once,
 * and sums up what came of them.
 */

export interface LoadPlan {
  /** Calls in all. */
  calls: number;
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
}

export interface LoadSummary {
  attempted: number;
  established: number;
  failed: number;
  /** Calls by the INVITE's final status (`none`: no final response). */
  statuses: Record<string, number>;
  /** INVITE → answer over the answered calls, in ms. */
  setupMs?: { p50: number; p95: number; max: number };
  /** The most calls that ran at once. */
  peakParallel: number;
  elapsedMs: number;
  /** Calls started per second, as achieved (lower than the plan when `parallel` held them back). */
  achievedRate: number;
}

/** Limits that keep a load a test, not a flood: each report keeps every message of every call. */
export const loadLimits = { calls: 1000, rate: 100, parallel: 100 } as const;

/**
 * Run the plan: call `placeOne(i)` at `i / rate` seconds (or later, when `parallel` calls are running), wait for all,
 * and summarise. A `placeOne` that throws counts as a failed call with no status.
 */
export async function runLoad(plan: LoadPlan, placeOne: (index: number) => Promise<LoadCallOutcome>, clock: { now(): number; sleep(ms: number): Promise<void> } = realClock): Promise<LoadSummary> {
  const outcomes: LoadCallOutcome[] = [];
  const running = new Set<Promise<void>>();
  let peak = 0;
  const t0 = clock.now();
  let lastStart = t0;
  for (let index = 0; index < plan.calls; index++) {
    const due = t0 + (index * 1000) / plan.rate;
    if (clock.now() < due) await clock.sleep(due - clock.now());
    while (running.size >= plan.parallel) await Promise.race(running);
    lastStart = clock.now();
    const call: Promise<void> = placeOne(index)
      .catch((): LoadCallOutcome => ({ established: false }))
      .then((outcome) => {
        outcomes.push(outcome);
        running.delete(call);
      });
    running.add(call);
    peak = Math.max(peak, running.size);
  }
  await Promise.all(running);
  const elapsedMs = clock.now() - t0;
  return summarise(outcomes, peak, elapsedMs, plan.calls > 1 ? ((plan.calls - 1) * 1000) / Math.max(1, lastStart - t0) : plan.calls);
}

function summarise(outcomes: LoadCallOutcome[], peakParallel: number, elapsedMs: number, achievedRate: number): LoadSummary {
  const statuses: Record<string, number> = {};
  for (const o of outcomes) {
    const key = o.status !== undefined ? String(o.status) : 'none';
    statuses[key] = (statuses[key] ?? 0) + 1;
  }
  const setups = outcomes.flatMap((o) => (o.established && o.setupMs !== undefined ? [o.setupMs] : [])).sort((a, b) => a - b);
  const established = outcomes.filter((o) => o.established).length;
  return {
    attempted: outcomes.length,
    established,
    failed: outcomes.length - established,
    statuses,
    ...(setups.length > 0 ? { setupMs: { p50: percentile(setups, 0.5), p95: percentile(setups, 0.95), max: setups.at(-1)! } } : {}),
    peakParallel,
    elapsedMs,
    achievedRate: Math.round(achievedRate * 10) / 10,
  };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

const realClock = {
  now: () => performance.now(),
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
};
