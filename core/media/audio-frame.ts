/** Media runs at 8 kHz in 20 ms frames: 160 samples of 16-bit PCM (RFC 3551 §4.5.14, ptime 20). */
export const sampleRate = 8000;
export const frameSamples = 160;
export const frameMs = 20;

/** Something that produces audio, one 20 ms frame at a time. */
export interface AudioSource {
  /** Fill `frame` with the next 160 samples; false when the source has ended (the frame is then silence). */
  read(frame: Int16Array): boolean;
  readonly description: string;
}

/** Something that takes the received audio, one 20 ms frame at a time. */
export interface AudioSink {
  write(frame: Int16Array): void;
  close?(): void;
}

export class SilenceSource implements AudioSource {
  readonly description = 'silence';
  read(frame: Int16Array): boolean {
    frame.fill(0);
    return true;
  }
}

/** A sine tone (e.g. 1000 Hz), continuous across frames; runs until replaced or for `durationMs`. */
export class ToneSource implements AudioSource {
  private phase = 0;
  private remaining: number;
  readonly description: string;

  constructor(
    readonly frequency: number,
    readonly amplitude = 8000,
    durationMs = Number.POSITIVE_INFINITY,
  ) {
    if (!(frequency > 0 && frequency < sampleRate / 2)) throw new RangeError(`tone frequency ${frequency} Hz is outside 0-${sampleRate / 2} Hz`);
    this.remaining = durationMs / frameMs;
    this.description = `tone ${frequency} Hz`;
  }

  read(frame: Int16Array): boolean {
    if (this.remaining <= 0) {
      frame.fill(0);
      return false;
    }
    this.remaining--;
    const step = (2 * Math.PI * this.frequency) / sampleRate;
    for (let i = 0; i < frame.length; i++) {
      frame[i] = Math.round(this.amplitude * Math.sin(this.phase));
      this.phase += step;
    }
    this.phase %= 2 * Math.PI;
    return true;
  }
}

/** Samples from a buffer (a decoded WAV file), once or looped. */
export class BufferSource implements AudioSource {
  private position = 0;

  constructor(
    private readonly samples: Int16Array,
    readonly description: string,
    private readonly loop = false,
  ) {}

  read(frame: Int16Array): boolean {
    if (this.samples.length === 0) {
      frame.fill(0);
      return false;
    }
    for (let i = 0; i < frame.length; i++) {
      if (this.position >= this.samples.length) {
        if (!this.loop) {
          frame.fill(0, i);
          return i > 0;
        }
        this.position = 0;
      }
      frame[i] = this.samples[this.position++]!;
    }
    return true;
  }
}

/**
 * Frames pushed from outside (the desktop microphone through the audio bridge), played in order; a missing frame is
 * silence. Bounded: a producer that outruns the clock loses its oldest frames, never memory.
 */
export class PcmPortSource implements AudioSource {
  readonly description = 'pcm port';
  private readonly queue: Int16Array[] = [];
  dropped = 0;

  constructor(private readonly maxFrames = 25) {}

  push(frame: Int16Array): void {
    if (frame.length !== frameSamples) throw new RangeError(`a PCM frame has ${frameSamples} samples, got ${frame.length}`);
    this.queue.push(frame);
    while (this.queue.length > this.maxFrames) {
      this.queue.shift();
      this.dropped++;
    }
  }

  read(frame: Int16Array): boolean {
    const next = this.queue.shift();
    if (next) frame.set(next);
    else frame.fill(0);
    return true;
  }
}

/** Received frames handed to a callback (the desktop speaker through the audio bridge). */
export class PcmPortSink implements AudioSink {
  constructor(private readonly onFrame: (frame: Int16Array) => void) {}
  write(frame: Int16Array): void {
    this.onFrame(Int16Array.from(frame));
  }
}
