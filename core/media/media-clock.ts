import { frameMs } from './audio-frame.js';

/**
 * One 20 ms clock for every call in the process: a single timer that corrects its own drift, so 200 calls cost one
 * wake-up per frame, not 200. A listener that throws is removed, never the clock.
 */
export interface MediaClockTime {
  now(): number;
  setTimer(fire: () => void, ms: number): unknown;
  clearTimer(timer: unknown): void;
}

const realTime: MediaClockTime = {
  now: () => performance.now(),
  setTimer: (fire, ms) => setTimeout(fire, ms),
  clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

export class MediaClock {
  constructor(private readonly time: MediaClockTime = realTime) {}

  private readonly listeners = new Set<(tick: number) => void>();
  private timer: unknown;
  private next = 0;
  private tickCount = 0;
  /** Ticks that fired more than one frame late (the process was too busy). */
  lateTicks = 0;

  static readonly shared = new MediaClock();

  subscribe(listener: (tick: number) => void): () => void {
    this.listeners.add(listener);
    if (!this.timer) {
      this.next = this.time.now() + frameMs;
      this.schedule();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.timer) {
        this.time.clearTimer(this.timer);
        this.timer = undefined;
      }
    };
  }

  private schedule(): void {
    this.timer = this.time.setTimer(() => this.fire(), Math.max(0, this.next - this.time.now()));
  }

  private fire(): void {
    const now = this.time.now();
    if (now - this.next > frameMs) this.lateTicks++;
    // Catch up at most a few frames after a stall; beyond that, skip ahead rather than burst.
    let due = 0;
    while (this.next <= now && due < 5) {
      this.next += frameMs;
      due++;
    }
    if (this.next <= now) this.next = now + frameMs;
    // A timer may fire a little early: then nothing is due yet, and no frame goes out twice.
    for (let i = 0; i < due; i++) {
      this.tickCount++;
      for (const listener of this.listeners) {
        try {
          listener(this.tickCount);
        } catch {
          this.listeners.delete(listener);
        }
      }
    }
    if (this.listeners.size > 0) this.schedule();
    else this.timer = undefined;
  }
}
