/** What the playout side gets every 20 ms. */
export interface PlayoutFrame {
  samples: Int16Array;
  /** True when the frame is made up (a gap in the stream), not received. */
  concealed: boolean;
}

export type JitterPushResult = 'queued' | 'late' | 'duplicate' | 'overflow';

const frameSamples = 160;

/**
 * A fixed-delay jitter buffer for 20 ms frames: it holds `depth` frames before playout starts, puts reordered
 * packets back in sequence, conceals a missing frame by repeating the last one at half level (then silence), and
 * counts packets that arrive after their playout time as late. Sequence numbers wrap at 2^16.
 */
export class JitterBuffer {
  late = 0;
  concealed = 0;
  private readonly frames = new Map<number, Int16Array>();
  private next: number | undefined;
  private playing = false;
  private lastPlayed: Int16Array | undefined;
  private misses = 0;
  /** Frames played and no longer needed, handed out again by `frame()`: a packet's audio costs no new allocation. */
  private readonly spare: Int16Array[] = [];
  /** What the last `pop()` returned: its caller may read it until the next `pop()`. */
  private handedOut: Int16Array | undefined;

  constructor(
    private readonly depth = 3,
    private readonly capacity = 50,
  ) {}

  push(sequence: number, samples: Int16Array): JitterPushResult {
    if (this.next !== undefined && this.playing) {
      const ahead = ((sequence - this.next) << 16) >> 16; // signed 16-bit distance
      if (ahead < 0) {
        this.late++;
        return 'late';
      }
    }
    if (this.frames.has(sequence)) return 'duplicate';
    if (this.frames.size >= this.capacity) {
      this.restart();
      this.frames.set(sequence, samples);
      return 'overflow';
    }
    this.frames.set(sequence, samples);
    if (!this.playing) {
      if (this.next === undefined || (((sequence - this.next) << 16) >> 16) < 0) this.next = sequence;
      if (this.frames.size >= this.depth) this.playing = true;
    }
    return 'queued';
  }

  /**
   * A frame to decode a packet into, then `push`: one played earlier when there is one (its old samples still in it),
   * else a new one. Its caller fills all of it.
   */
  frame(): Int16Array {
    return this.spare.pop() ?? new Int16Array(frameSamples);
  }

  /**
   * The frame to play now; undefined while nothing is playing (before the first packets, or after a long silence).
   * Its samples are the caller's to read until the next `pop()` (then the frame may be handed out again by `frame()`):
   * whoever keeps audio copies it, as every AudioSink does.
   */
  pop(): PlayoutFrame | undefined {
    const previous = this.handedOut;
    this.handedOut = undefined;
    const played = this.next !== undefined && this.playing ? this.take() : undefined;
    this.handedOut = played?.samples;
    this.giveBack(previous);
    return played;
  }

  private take(): PlayoutFrame | undefined {
    const seq = this.next!;
    this.next = (seq + 1) & 0xffff;
    const frame = this.frames.get(seq);
    if (frame) {
      this.frames.delete(seq);
      const before = this.lastPlayed;
      this.lastPlayed = frame;
      this.misses = 0;
      this.giveBack(before);
      return { samples: frame, concealed: false };
    }
    this.misses++;
    if (this.frames.size === 0 && this.misses > 5) {
      // The sender went quiet (hold, end of talk spurt): stop playing until the buffer fills again.
      this.restart();
      return undefined;
    }
    this.concealed++;
    const samples = this.frame();
    if (this.misses === 1 && this.lastPlayed) for (let i = 0; i < frameSamples; i++) samples[i] = this.lastPlayed[i]! >> 1;
    else samples.fill(0);
    return { samples, concealed: true };
  }

  /** Keep a frame for `frame()` once nothing reads it: not the one handed out, not the one concealment repeats. */
  private giveBack(frame: Int16Array | undefined): void {
    if (!frame || frame === this.handedOut || frame === this.lastPlayed || this.spare.length >= 8 || this.spare.includes(frame)) return;
    this.spare.push(frame);
  }

  get size(): number {
    return this.frames.size;
  }

  /** A new sender (SSRC change) or an overflow: start over. */
  restart(): void {
    this.frames.clear();
    this.next = undefined;
    this.playing = false;
    this.misses = 0;
  }
}
