import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import type { PhoneEvent } from '../api/phone-types.js';
import { ToneSource } from '../media/audio-frame.js';
import { toneShare } from '../media/tone-detector.js';
import { defaultMediaProvider } from './default-media.js';
import { Phone } from './phone.js';
import { mediaFrames } from '../../test/support/media-frames.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { until } from '../../test/support/until.js';


function tone(frequency: number, frames: number): Int16Array[] {
  const source = new ToneSource(frequency, 8000);
  return Array.from({ length: frames }, () => {
    const frame = new Int16Array(160);
    source.read(frame);
    return frame;
  });
}

/** SIP through the in-memory network; the RTP is real (core/media's sockets on loopback). */
describe('Phone with its audio routed to a host audio port (the desktop audio bridge)', () => {
  const network = new MemoryNetwork();
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('sends microphone frames to the far end, hands far-end frames to the port by call id, mutes for real, and stops at hang-up', async () => {
    const lab = await Lab.start({ timers: { t1: 100, t2: 400 }, sockets: network });
    cleanup.push(() => lab.stop());
    const account = (user: string, auto = false) => ({ id: user, user, server: lab.servers.udp!, transport: 'udp' as const, domain: lab.domain, ...(auto ? { answer: { kind: 'auto' as const } } : {}) });
    const desktop = new Phone({ accounts: [account('alice')], createSessionDescriptionHandlerFactory: defaultMediaProvider, timers: { t1: 100, t2: 400 }, audioPort: true, sockets: network });
    const agent = new Phone({ accounts: [account('bob', true)], createSessionDescriptionHandlerFactory: defaultMediaProvider, timers: { t1: 100, t2: 400 }, sockets: network });
    cleanup.push(() => desktop.shutdown(), () => agent.shutdown());
    const agentEvents: PhoneEvent[] = [];
    agent.subscribe((e) => agentEvents.push(e));
    const played: Array<{ callId: string; samples: Int16Array }> = [];
    desktop.audio!.onPlayback((callId, samples) => played.push({ callId, samples }));
    await desktop.register();
    await agent.register();

    const call = await desktop.call({ target: 'bob' });
    const desktopEvents: PhoneEvent[] = [];
    desktop.subscribe((e) => desktopEvents.push(e));
    await until(() => desktopEvents.some((e) => e.type === 'call' && e.call.id === call.id && e.call.state === 'established'));
    const agentLeg = (agentEvents.find((e) => e.type === 'incoming') as Extract<PhoneEvent, { type: 'incoming' }>).call.id;

    // far end → port: the agent's 1000 Hz tone arrives tagged with our call id
    agent.mediaOf(agentLeg)!.play(new ToneSource(1000));
    await until(() => played.filter((p) => p.callId === call.id).length >= 25);
    const received = played.filter((p) => p.callId === call.id).slice(-20);
    expect(received.every((p) => p.samples.length === 160)).toBe(true);
    expect(toneShare(Int16Array.from(received.flatMap((p) => [...p.samples])), 1000)).toBeGreaterThan(0.8);

    // port → far end: 600 Hz "microphone" frames pushed in real time (one per media frame) reach the agent
    const frames = tone(600, 100);
    for (const frame of frames) {
      desktop.audio!.capture(call.id, frame);
      await mediaFrames(1);
    }
    expect(agent.mediaOf(agentLeg)!.recent.toneShare(600)).toBeGreaterThan(0.5);

    // mute: the agent now hears silence although frames keep coming
    await desktop.mute(call.id, true);
    for (const frame of tone(600, 40)) {
      desktop.audio!.capture(call.id, frame);
      await mediaFrames(1);
    }
    // the last 20 of the 40 muted frames (what the agent keeps is a 2 s window, full by now)
    const after = agent.mediaOf(agentLeg)!.recent.samples();
    const tail = after.subarray(after.length - 160 * 20);
    expect(tail).toHaveLength(160 * 20);
    expect(Math.max(...tail.map(Math.abs))).toBe(0);
    await desktop.mute(call.id, false);

    // refused: the wrong size, and frames for calls that have no audio
    desktop.audio!.capture(call.id, new Int16Array(80));
    desktop.audio!.capture('no-such-call', new Int16Array(160));
    desktop.audio!.refuse('BAD_MAGIC');
    expect(desktop.audio!.stats()).toMatchObject({ unknownCall: 1, refused: { BAD_LENGTH: 1, BAD_MAGIC: 1 }, routedCalls: 1 });
    expect(desktop.audio!.stats().captured).toBeGreaterThanOrEqual(140);

    await desktop.hangup(call.id);
    await until(() => desktop.audio!.stats().routedCalls === 0);
    const count = played.length;
    await mediaFrames(10); // ten frames in which playback would have gone on
    expect(played.length).toBe(count);
    desktop.audio!.capture(call.id, new Int16Array(160));
    expect(desktop.audio!.stats().unknownCall).toBe(2);
  });

  // A 302 makes a new INVITE with new media (RFC 3261 §8.1.3.4): the port, the hold and digit listeners and the media
  // timeout follow the call onto it, not the first target's closed media.
  it('a call sent on by a 302 after ringing routes the new target\'s audio to the port, under the same call id', async () => {
    const lab = await Lab.start({ timers: { t1: 100, t2: 400 }, sockets: network });
    cleanup.push(() => lab.stop());
    const account = (user: string, extra = {}) => ({ id: user, user, server: lab.servers.udp!, transport: 'udp' as const, domain: lab.domain, ...extra });
    const desktop = new Phone({ accounts: [account('alice', { mediaTimeout: { seconds: 3 } })], createSessionDescriptionHandlerFactory: defaultMediaProvider, timers: { t1: 100, t2: 400 }, audioPort: true, sockets: network });
    const bob = new Phone({ accounts: [account('bob', { forward: { when: 'no-answer', to: 'carol', afterMs: 1000 } })], createSessionDescriptionHandlerFactory: defaultMediaProvider, timers: { t1: 100, t2: 400 }, sockets: network });
    const carol = new Phone({ accounts: [account('carol', { answer: { kind: 'auto' } })], createSessionDescriptionHandlerFactory: defaultMediaProvider, timers: { t1: 100, t2: 400 }, sockets: network });
    cleanup.push(() => desktop.shutdown(), () => bob.shutdown(), () => carol.shutdown());
    const carolEvents: PhoneEvent[] = [];
    carol.subscribe((e) => carolEvents.push(e));
    const desktopEvents: PhoneEvent[] = [];
    desktop.subscribe((e) => desktopEvents.push(e));
    const played: Array<{ callId: string; samples: Int16Array }> = [];
    desktop.audio!.onPlayback((callId, samples) => played.push({ callId, samples }));
    await Promise.all([desktop.register(), bob.register(), carol.register()]);
    const call = await desktop.call({ target: 'bob' });
    const last = () => desktopEvents.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === call.id).at(-1)?.call;
    await until(() => last()?.state === 'established');
    expect(last()!.redirects).toHaveLength(1);
    const carolLeg = (carolEvents.find((e) => e.type === 'incoming') as Extract<PhoneEvent, { type: 'incoming' }>).call.id;
    carol.mediaOf(carolLeg)!.play(new ToneSource(1000));
    await until(() => played.filter((p) => p.callId === call.id).length >= 25);
    const received = played.filter((p) => p.callId === call.id).slice(-20);
    expect(toneShare(Int16Array.from(received.flatMap((p) => [...p.samples])), 1000)).toBeGreaterThan(0.8);
    // the media timeout reads the new target's packets: 4.5 s of talking, past its 3 s, and the call is up
    await new Promise((resolve) => setTimeout(resolve, 4500));
    expect(last()?.state).toBe('established');
    await desktop.hangup(call.id);
  });

  it('has no audio port unless the host asks for one', async () => {
    const phone = new Phone({ accounts: [], createSessionDescriptionHandlerFactory: defaultMediaProvider });
    cleanup.push(() => phone.shutdown());
    expect(phone.audio).toBeUndefined();
  });
});
