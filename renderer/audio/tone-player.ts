import type { CallTone } from './call-tones.js';
import { toneCadences, toneSamples } from './ring-tones.js';
import { windowedToneShare } from './tone-share.js';

/** What a tone player shows for diagnostics and the end-to-end tests (`window.veilphoneTones`). */
export interface TonePlayerProbe {
  /** The tone playing now, if any. */
  playing(): CallTone | undefined;
  /**
   * The share (0-1) of `frequency` in what the player sent to its device while its tone sounded (the last few
   * non-silent analyser blocks, taken after the volume): 0.5 each for a two-tone mix, about 1 for a single tone.
   */
  toneShare(frequency: number): number;
  /** The AudioContext's state ('running' while a tone plays), 'none' when there is none; and whether the browser held it back. */
  state(): string;
  /** The AudioContext's clock in seconds (it stands still while suspended, and advances as the device takes audio). */
  clock(): number;
  /** How many times the player gave up a context whose clock stood still while it ran, and started a fresh one. */
  restarts(): number;
  blocked(): boolean;
  /** The device it plays on ('' = the system default) and its volume. */
  output(): { sinkId: string; volume: number };
}

/** Blocks of output kept for the probe, and how often one is taken while a tone plays. */
const keptBlocks = 24;
const blockEveryMs = 60;
/**
 * A context that says 'running' but whose clock has not moved for this long while a tone should sound has lost its
 * device (an unplugged headset, an audio service that stopped pulling): it is replaced by a fresh one, so the phone
 * still rings. Far beyond any output buffer (tens to a few hundred ms).
 */
export const stalledAfterMs = 1500;

/**
 * Plays the phone's own tones (ring, ringback, call waiting) with WebAudio: one period of the tone is generated
 * (ring-tones.ts), looped by an AudioBufferSourceNode, through a gain (the volume) and an analyser (for the probe) to
 * the chosen output device (AudioContext.setSinkId, where the browser has it). The context is suspended while
 * silent. A context the browser did not let start (no click on the page yet) reports 'suspended' until `unlock()`.
 * A context whose clock stands still while it runs is replaced (`stalledAfterMs`).
 */
export class TonePlayer {
  private context?: AudioContext;
  private gain?: GainNode;
  private analyser?: AnalyserNode;
  private source?: AudioBufferSourceNode;
  private current?: CallTone;
  private readonly buffers = new Map<CallTone, AudioBuffer>();
  private readonly blocks: Float32Array[] = [];
  private sampler?: ReturnType<typeof setInterval>;
  /** Context time from which the analyser holds only this tone (its buffer keeps the last tone's end while suspended). */
  private sampleFrom?: number;
  private sinkId = '';
  private volume: number;
  private closed = false;
  /** The context's clock when last seen to move, and when that was (performance time): the stall watchdog. */
  private lastClock = -1;
  private lastMoveAt = 0;
  private restarts = 0;

  /** The browser held the context back (autoplay policy: no click on the page yet), so nothing could sound. */
  private blocked = false;

  constructor(
    options: { volume: number; sinkId?: string },
    private readonly onBlocked: (blocked: boolean) => void = () => undefined,
  ) {
    this.volume = options.volume;
    this.sinkId = options.sinkId ?? '';
    this.open();
  }

  /** A context with its gain and analyser on the chosen device, suspended until a tone plays. */
  private open(): void {
    if (typeof AudioContext === 'undefined') return;
    try {
      const context = new AudioContext({ latencyHint: 'playback' });
      this.context = context;
      this.gain = context.createGain();
      this.gain.gain.value = this.volume;
      this.analyser = context.createAnalyser();
      this.analyser.fftSize = 2048; // ~43 ms: several whole blocks fit in a 150 ms beep
      this.gain.connect(this.analyser);
      this.analyser.connect(context.destination);
      if (this.sinkId) void this.setSink(this.sinkId);
      // Nothing plays yet: an idle context needs no audio thread. One that started suspended was held back by the
      // browser (no click on the page yet): said, so the page can ask for one.
      if (context.state === 'running') void context.suspend().catch(() => undefined);
      else this.setBlocked(true);
    } catch {
      this.context = undefined;
    }
  }

  /** Start `tone` (from the top of its cadence), or stop with undefined; the same tone again keeps playing. */
  play(tone: CallTone | undefined): void {
    if (tone === this.current || this.closed) return;
    this.stopSource();
    this.current = tone;
    this.blocks.length = 0;
    const context = this.context;
    if (!context || !this.gain) return;
    if (tone === undefined) {
      void context.suspend().catch(() => undefined);
      return;
    }
    const source = context.createBufferSource();
    source.buffer = this.buffer(tone, context);
    source.loop = true;
    source.connect(this.gain);
    // Started at the context's present (frozen while suspended): once the analyser's window has moved past that
    // moment, it holds only this tone, however long the browser takes to resume the context.
    const startAt = context.currentTime;
    source.start(startAt);
    this.source = source;
    this.sampleFrom = startAt + (this.analyser?.fftSize ?? 0) / context.sampleRate;
    this.lastClock = -1;
    this.sampler = setInterval(() => {
      this.watchClock();
      this.sample();
    }, blockEveryMs);
    void context.resume().catch(() => undefined);
  }

  /** While a tone plays on a running context, its clock must move; one that stood still too long is replaced. */
  private watchClock(): void {
    const context = this.context;
    if (!context || this.current === undefined) return;
    const now = performance.now();
    if (context.state !== 'running' || context.currentTime !== this.lastClock) {
      this.lastClock = context.currentTime;
      this.lastMoveAt = now; // a suspended context (still resuming, or held back by the browser) is not stalled
      return;
    }
    if (now - this.lastMoveAt < stalledAfterMs) return;
    const tone = this.current;
    this.restarts++;
    this.stopSource();
    this.current = undefined;
    void context.close().catch(() => undefined);
    this.context = undefined;
    this.buffers.clear(); // buffers belong to their context's sample rate
    this.open();
    this.play(tone);
  }

  /** After a click or key press: the browser now lets the page play, so a context it held back can start. */
  unlock(): void {
    const context = this.context;
    if (!context || !this.blocked) return;
    void context.resume().then(() => {
      this.setBlocked(false);
      if (this.current === undefined) void context.suspend().catch(() => undefined);
    }, () => undefined);
  }

  private setBlocked(blocked: boolean): void {
    this.blocked = blocked;
    this.onBlocked(blocked);
  }

  setVolume(volume: number): void {
    this.volume = Math.max(0, Math.min(1, volume));
    if (this.gain && this.context) this.gain.gain.setTargetAtTime(this.volume, this.context.currentTime, 0.02);
  }

  /** Route to a device where the browser can ('' = the default); false where it cannot. */
  async setSink(sinkId: string): Promise<boolean> {
    this.sinkId = sinkId;
    const context = this.context as (AudioContext & { setSinkId?: (id: string) => Promise<void> }) | undefined;
    if (!context?.setSinkId) return false;
    try {
      await context.setSinkId(sinkId);
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    this.closed = true;
    this.stopSource();
    this.current = undefined;
    void this.context?.close().catch(() => undefined);
    this.context = undefined;
  }

  readonly probe: TonePlayerProbe = {
    playing: () => this.current,
    toneShare: (frequency) => {
      // weighted by each block's energy: a block that caught only the edge of a beep counts for little
      const rate = this.context?.sampleRate ?? 48_000;
      let weighted = 0;
      let total = 0;
      for (const block of this.blocks) {
        const energy = block.reduce((sum, x) => sum + x * x, 0);
        weighted += energy * windowedToneShare(block, frequency, rate);
        total += energy;
      }
      return total === 0 ? 0 : weighted / total;
    },
    state: () => this.context?.state ?? 'none',
    clock: () => this.context?.currentTime ?? 0,
    restarts: () => this.restarts,
    blocked: () => this.blocked,
    output: () => ({ sinkId: this.sinkId, volume: this.volume }),
  };

  private buffer(tone: CallTone, context: AudioContext): AudioBuffer {
    let buffer = this.buffers.get(tone);
    if (!buffer) {
      const samples = toneSamples(toneCadences[tone], context.sampleRate);
      buffer = context.createBuffer(1, samples.length, context.sampleRate);
      buffer.copyToChannel(samples, 0);
      this.buffers.set(tone, buffer);
    }
    return buffer;
  }

  /** Keep the analyser's latest block if it carries sound (the cadence's gaps are no evidence either way). */
  private sample(): void {
    const analyser = this.analyser;
    const context = this.context;
    if (!analyser || !context || this.sampleFrom === undefined || context.currentTime < this.sampleFrom) return;
    const block = new Float32Array(analyser.fftSize);
    analyser.getFloatTimeDomainData(block);
    let energy = 0;
    for (let i = 0; i < block.length; i++) energy += block[i]! * block[i]!;
    if (energy / block.length < 1e-6) return;
    this.blocks.push(block);
    if (this.blocks.length > keptBlocks) this.blocks.shift();
  }

  private stopSource(): void {
    if (this.sampler !== undefined) clearInterval(this.sampler);
    this.sampler = undefined;
    if (!this.source) return;
    try {
      this.source.stop();
    } catch {
      // never started (a closed context): nothing to stop
    }
    this.source.disconnect();
    this.source = undefined;
  }
}
