import { audioPortFrameSamples, audioPortRate, type PhoneAudioPort } from '../../core/api/audio-port.js';
import workletUrl from './pcm-worklet.ts?worker&url';
import { rmsLevel, toneShare } from './tone-share.js';

export interface AudioBridgeEvents {
  status(status: 'starting' | 'running' | 'no-microphone' | 'unsupported' | 'failed', problem?: string): void;
  /** Levels 0-1, at most ten times a second. */
  levels(input: number, output: number): void;
}

/** What the bridge exposes for diagnostics and end-to-end tests (`window.veilphoneAudio`). */
export interface AudioProbe {
  levels(): { input: number; output: number };
  /** Goertzel share (0-1) of `frequency` in the last half second the speaker played. */
  toneShare(frequency: number): number;
  stats(): AudioBridgeStats;
}

export interface AudioBridgeStats {
  captureFrames: number;
  playbackFrames: number;
  /** Far-end frames of another call than the one on the speaker (ignored). */
  otherCallFrames: number;
  underruns: number;
  contextRate: number;
  inputDevice?: string;
}

/**
 * The microphone and speaker side of a call (ARCHITECTURE.md "audio bridge"): getUserMedia → an AudioWorklet on an
 * 8 kHz AudioContext → 20 ms frames to the phone's audio port for the current call; the port's far-end frames of that
 * call → the worklet → the speaker (or the chosen output device). One bridge serves one call at a time: the call in
 * focus; frames of other calls are ignored.
 */
export class AudioBridge {
  private context?: AudioContext;
  private node?: AudioWorkletNode;
  private stream?: MediaStream;
  private source?: MediaStreamAudioSourceNode;
  private callId?: string;
  private unsubscribe?: () => void;
  private inputLevel = 0;
  private outputLevel = 0;
  private lastLevels = 0;
  private lastPlayed = 0;
  private lastCaptured = 0;
  private readonly recent: Int16Array[] = [];
  private readonly counters: AudioBridgeStats = { captureFrames: 0, playbackFrames: 0, otherCallFrames: 0, underruns: 0, contextRate: 0 };
  private stopped = false;

  constructor(
    private readonly port: PhoneAudioPort,
    private readonly events: AudioBridgeEvents,
  ) {}

  /** Open the audio context, the worklet and the microphone (the device given, or the default). */
  async start(options: { inputId?: string; outputId?: string } = {}): Promise<void> {
    this.events.status('starting');
    if (typeof AudioContext === 'undefined' || typeof AudioWorkletNode === 'undefined') {
      this.events.status('unsupported', 'this browser has no AudioWorklet');
      return;
    }
    let context: AudioContext;
    try {
      // the phone's media runs at 8 kHz; the browser resamples the microphone and the speaker to and from it
      context = new AudioContext({ sampleRate: audioPortRate, latencyHint: 'interactive' });
      await context.audioWorklet.addModule(workletUrl);
    } catch (error) {
      this.events.status('unsupported', (error as Error).message);
      return;
    }
    if (this.stopped) {
      void context.close();
      return;
    }
    this.context = context;
    this.counters.contextRate = context.sampleRate;
    const node = new AudioWorkletNode(context, 'veilphone-pcm-bridge', { numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1] });
    this.node = node;
    node.port.onmessage = (event: MessageEvent<{ type: string; samples?: Int16Array; rms?: number; underruns?: number }>) => this.fromWorklet(event.data);
    node.connect(context.destination);
    this.unsubscribe = this.port.onPlayback((callId, samples) => this.played(callId, samples));
    if (options.outputId) await this.setOutput(options.outputId);
    await this.openMicrophone(options.inputId);
    await context.resume().catch(() => undefined);
  }

  /** The call whose audio goes to and from the devices (undefined: none; the microphone frames go nowhere). */
  setCall(callId: string | undefined): void {
    if (callId === this.callId) return;
    this.callId = callId;
    this.recent.length = 0;
  }

  /** Switch the microphone (restarts its stream). */
  async setInput(deviceId: string): Promise<void> {
    if (!this.context) return;
    await this.openMicrophone(deviceId || undefined);
  }

  /** Route the speaker to a device where the browser can (AudioContext.setSinkId); false where it cannot. */
  async setOutput(deviceId: string): Promise<boolean> {
    const context = this.context as (AudioContext & { setSinkId?: (id: string) => Promise<void> }) | undefined;
    if (!context?.setSinkId) return false;
    try {
      await context.setSinkId(deviceId);
      return true;
    } catch {
      return false;
    }
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.source?.disconnect();
    this.node?.disconnect();
    void this.context?.close().catch(() => undefined);
    this.context = undefined;
    this.inputLevel = 0;
    this.outputLevel = 0;
    this.events.levels(0, 0);
  }

  readonly probe: AudioProbe = {
    levels: () => ({ input: this.inputLevel, output: this.outputLevel }),
    toneShare: (frequency) => toneShare(this.recent, frequency, audioPortRate),
    stats: () => ({ ...this.counters }),
  };

  private async openMicrophone(deviceId: string | undefined): Promise<void> {
    const context = this.context;
    if (!context || !this.node) return;
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.source?.disconnect();
    try {
      const audio: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 };
      if (deviceId) audio.deviceId = { exact: deviceId };
      const stream = await navigator.mediaDevices.getUserMedia({ audio, video: false });
      if (this.stopped) {
        for (const track of stream.getTracks()) track.stop();
        return;
      }
      this.stream = stream;
      this.source = context.createMediaStreamSource(stream);
      this.source.connect(this.node);
      this.counters.inputDevice = stream.getAudioTracks()[0]?.label ?? '';
      this.events.status('running');
    } catch (error) {
      // the far end is still heard; the user learns why they are not
      this.events.status('no-microphone', (error as Error).message);
    }
  }

  private fromWorklet(message: { type: string; samples?: Int16Array; rms?: number; underruns?: number }): void {
    if (message.type === 'capture' && message.samples?.length === audioPortFrameSamples) {
      this.inputLevel = message.rms ?? 0;
      this.lastCaptured = performance.now();
      if (this.callId !== undefined) {
        this.counters.captureFrames++;
        this.port.capture(this.callId, message.samples);
      }
      this.report();
    } else if (message.type === 'underrun') {
      this.counters.underruns = message.underruns ?? this.counters.underruns;
    }
  }

  private played(callId: string, samples: Int16Array): void {
    if (callId !== this.callId || samples.length !== audioPortFrameSamples) {
      this.counters.otherCallFrames++;
      return;
    }
    this.counters.playbackFrames++;
    this.recent.push(samples);
    if (this.recent.length > 25) this.recent.shift();
    this.outputLevel = rmsLevel(samples);
    this.lastPlayed = performance.now();
    this.node?.port.postMessage({ type: 'play', samples });
    this.report();
  }

  private report(): void {
    const now = performance.now();
    if (now - this.lastLevels < 100) return;
    this.lastLevels = now;
    // a side that stopped (hold, a muted or lost microphone) reads silent, not its last level
    if (now - this.lastPlayed > 200) this.outputLevel = 0;
    if (now - this.lastCaptured > 200) this.inputLevel = 0;
    this.events.levels(this.inputLevel, this.outputLevel);
  }
}
