import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { stalledAfterMs, TonePlayer } from './tone-player.js';

/** A WebAudio context small enough to drive by hand: its clock moves only when the test says so. */
class FakeContext {
  static made: FakeContext[] = [];
  state: 'running' | 'suspended' | 'closed' = FakeContext.startState;
  static startState: 'running' | 'suspended' = 'running';
  currentTime = 0;
  sampleRate = 48_000;
  destination = {};
  started: string[] = [];
  constructor() {
    FakeContext.made.push(this);
  }
  createGain() {
    return { gain: { value: 1, setTargetAtTime: () => undefined }, connect: () => undefined };
  }
  createAnalyser() {
    return { fftSize: 0, connect: () => undefined, getFloatTimeDomainData: (block: Float32Array) => block.fill(0.5) };
  }
  createBuffer(_channels: number, length: number) {
    return { length, copyToChannel: () => undefined };
  }
  createBufferSource() {
    const started = this.started;
    return { buffer: undefined, loop: false, connect: () => undefined, disconnect: () => undefined, stop: () => undefined, start: () => started.push('tone') };
  }
  resume() {
    if (this.state !== 'closed' && FakeContext.startState === 'running') this.state = 'running';
    return Promise.resolve();
  }
  suspend() {
    if (this.state !== 'closed') this.state = 'suspended';
    return Promise.resolve();
  }
  close() {
    this.state = 'closed';
    return Promise.resolve();
  }
}

describe('a tone player whose device stops taking audio (renderer/audio/tone-player.ts)', () => {
  beforeEach(() => {
    FakeContext.made = [];
    FakeContext.startState = 'running';
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'performance'] });
    vi.stubGlobal('AudioContext', FakeContext);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  /** Let the player's resume/suspend promises settle, then move time on. */
  const pass = async (ms: number, clock?: FakeContext) => {
    for (let t = 0; t < ms; t += 60) {
      await Promise.resolve();
      if (clock && clock.state === 'running') clock.currentTime += 0.06;
      await vi.advanceTimersByTimeAsync(60);
    }
  };

  it('keeps its context while the clock moves', async () => {
    const player = new TonePlayer({ volume: 0.5 });
    player.play('ring');
    await pass(5000, FakeContext.made[0]);
    expect(FakeContext.made).toHaveLength(1);
    expect(player.probe.restarts()).toBe(0);
    expect(player.probe.state()).toBe('running');
    player.close();
  });

  it('replaces a running context whose clock stood still, and plays the same tone on the fresh one', async () => {
    const player = new TonePlayer({ volume: 0.5 });
    player.play('waiting');
    await pass(300, FakeContext.made[0]);
    await pass(stalledAfterMs - 200); // still running, clock frozen: not yet
    expect(FakeContext.made).toHaveLength(1);
    await pass(400);
    expect(FakeContext.made).toHaveLength(2);
    expect(FakeContext.made[0]!.state).toBe('closed');
    expect(FakeContext.made[1]!.started).toEqual(['tone']);
    expect(player.probe.playing()).toBe('waiting');
    expect(player.probe.restarts()).toBe(1);
    // the fresh one runs: no further restarts
    await pass(5000, FakeContext.made[1]);
    expect(FakeContext.made).toHaveLength(2);
    await Promise.resolve();
    expect(player.probe.state()).toBe('running');
    player.close();
  });

  it('leaves alone a context that is silent or that the browser held back (suspended, so its clock may stand still)', async () => {
    const idle = new TonePlayer({ volume: 0.5 });
    await pass(5000);
    expect(FakeContext.made).toHaveLength(1);
    idle.close();

    FakeContext.startState = 'suspended';
    const blocked = new TonePlayer({ volume: 0.5 });
    blocked.play('ring');
    await pass(5000);
    expect(FakeContext.made).toHaveLength(2);
    expect(blocked.probe.blocked()).toBe(true);
    expect(blocked.probe.restarts()).toBe(0);
    blocked.close();
  });
});
