import type { LoadInterval } from '../core/scenario/call-load.js';

/** The output a progress line goes to: a terminal, or nothing at all (piped output gets no progress line). */
export interface ProgressOutput {
  isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * A live one-line display of a running load on a terminal (`veilphone run` without --quiet): rewritten every second,
 * ended with a line break before anything else is printed. Piped output never sees it (no escape codes in logs).
 */
export class LoadProgress {
  private shown = false;

  constructor(
    private readonly out: ProgressOutput,
    private readonly enabled = out.isTTY === true,
  ) {}

  update(load: string, interval: LoadInterval): void {
    if (!this.enabled) return;
    this.out.write(`\r\x1b[2K${progressLine(load, interval)}`);
    this.shown = true;
  }

  /** Leave the line as it is and go to the next one (before a step's verdict is printed). */
  end(): void {
    if (!this.shown) return;
    this.out.write('\n');
    this.shown = false;
  }
}

export function progressLine(load: string, interval: LoadInterval): string {
  const seconds = interval.intervalMs / 1000;
  const rate = seconds > 0 ? (interval.started / seconds).toFixed(0) : '0';
  const setup = interval.setupMs ? ` setup p50 ${interval.setupMs.p50.toFixed(1)} p99 ${interval.setupMs.p99.toFixed(1)} ms` : '';
  const queued = interval.queued > 0 ? ` queued ${interval.queued}` : '';
  return `load ${load} ${(interval.elapsedMs / 1000).toFixed(0)}s: ${rate} calls/s, started ${interval.totalStarted} answered ${interval.totalAnswered} failed ${interval.totalFailed}, running ${interval.running}${queued}${setup}`;
}
