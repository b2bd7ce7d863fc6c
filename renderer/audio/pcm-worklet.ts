/**
 * The audio bridge's worklet, running on the audio thread of an AudioContext at 8 kHz: microphone samples are cut into
 * 20 ms frames of 160 16-bit samples (posted to the page with their level), and far-end frames posted by the page are
 * played out through a small bounded queue that waits for two frames after running dry (absorbing network jitter).
 */

// The AudioWorkletGlobalScope, as far as this file uses it (TypeScript's DOM library does not describe it).
declare const sampleRate: number;
declare function registerProcessor(name: string, processor: new () => AudioWorkletProcessorLike): void;
declare const AudioWorkletProcessor: new () => AudioWorkletProcessorLike;
interface AudioWorkletProcessorLike {
  readonly port: MessagePort;
  process(inputs: Float32Array[][], outputs: Float32Array[][]): boolean;
}

const frameSamples = 160;
/** Far-end audio queued at most (240 ms); beyond it the oldest frames go (latency stays bounded). */
const maxQueuedFrames = 12;
/** After running dry, wait for this many frames before playing again. */
const prebufferFrames = 2;

class PcmBridgeProcessor extends AudioWorkletProcessor {
  private capture = new Int16Array(frameSamples);
  private captured = 0;
  private captureEnergy = 0;
  private readonly queue: Int16Array[] = [];
  private playing?: Int16Array;
  private playOffset = 0;
  private waiting = true;
  private underruns = 0;
  private dropped = 0;

  constructor() {
    super();
    this.port.onmessage = (event: MessageEvent<{ type: 'play'; samples: Int16Array }>) => {
      const message = event.data;
      if (message?.type !== 'play' || !(message.samples instanceof Int16Array) || message.samples.length !== frameSamples) return;
      this.queue.push(message.samples);
      while (this.queue.length > maxQueuedFrames) {
        this.queue.shift();
        this.dropped++;
      }
    };
    this.port.postMessage({ type: 'ready', sampleRate });
  }

  override process(inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const input = inputs[0]?.[0];
    if (input) this.take(input);
    const output = outputs[0]?.[0];
    if (output) this.fill(output);
    return true;
  }

  private take(input: Float32Array): void {
    for (let i = 0; i < input.length; i++) {
      const value = Math.max(-1, Math.min(1, input[i]!));
      this.capture[this.captured++] = Math.round(value * 32767);
      this.captureEnergy += value * value;
      if (this.captured === frameSamples) {
        const frame = this.capture;
        this.port.postMessage({ type: 'capture', samples: frame, rms: Math.sqrt(this.captureEnergy / frameSamples) }, [frame.buffer]);
        this.capture = new Int16Array(frameSamples);
        this.captured = 0;
        this.captureEnergy = 0;
      }
    }
  }

  private fill(output: Float32Array): void {
    if (this.waiting && this.queue.length >= prebufferFrames) this.waiting = false;
    for (let i = 0; i < output.length; i++) {
      if (!this.playing || this.playOffset >= frameSamples) {
        this.playing = this.waiting ? undefined : this.queue.shift();
        this.playOffset = 0;
        if (!this.playing) {
          if (!this.waiting) {
            this.waiting = true;
            this.underruns++;
            this.port.postMessage({ type: 'underrun', underruns: this.underruns, dropped: this.dropped });
          }
          output.fill(0, i);
          return;
        }
      }
      output[i] = this.playing[this.playOffset++]! / 32768;
    }
  }
}

registerProcessor('veilphone-pcm-bridge', PcmBridgeProcessor);
