import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallSnapshot, PhoneEvent } from '../api/phone-types.js';
import { frameSamples, ToneSource } from '../media/audio-frame.js';
import { encodeG711 } from '../media/g711.js';
import { MediaClock } from '../media/media-clock.js';
import { serializeRtp } from '../media/rtp-packet.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { pcmuSdp, ScriptPeer } from '../../test/support/script-peer.js';
import { until } from '../../test/support/until.js';
import { defaultMediaProvider } from './default-media.js';
import { Phone } from './phone.js';

/** A far-end RTP socket on loopback: it counts what the phone sends it and can play a tone at the phone. */
class RtpPeer {
  received = 0;
  private stopTone: (() => void) | undefined;

  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', () => this.received++);
  }

  static async open(): Promise<RtpPeer> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new RtpPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** PCMU frames of a `frequency` tone to `port`, one per tick of the media clock, until closed. */
  playTone(port: number, frequency: number): void {
    const tone = new ToneSource(frequency);
    const pcm = new Int16Array(frameSamples);
    let sequence = 1;
    this.stopTone = MediaClock.shared.subscribe(() => {
      tone.read(pcm);
      const packet = serializeRtp({ marker: sequence === 1, payloadType: 0, sequence, timestamp: sequence * frameSamples, ssrc: 0x1234, payload: encodeG711('PCMU', pcm) });
      sequence++;
      this.socket.send(packet, port, '127.0.0.1');
    });
  }

  close(): void {
    this.stopTone?.();
    this.socket.close();
  }
}

/** Early media (issue 19 item 5): SIP through the in-memory network, RTP real on loopback. */
describe('early media from a 18x with SDP', () => {
  const network = new MemoryNetwork();
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** The far end's SIP: a scripted peer on the in-memory network, closed after the test. */
  async function scriptPeer(): Promise<ScriptPeer> {
    const peer = await ScriptPeer.open(network);
    cleanup.push(() => peer.socket.close());
    return peer;
  }

  /** alice with real plain-RTP media, registered at `peer`, and the snapshots her events gave of one call. */
  async function registeredPhone(peer: ScriptPeer): Promise<{ alice: Phone; snapshots: (id: string) => CallSnapshot[] }> {
    const events: PhoneEvent[] = [];
    const alice = new Phone({
      accounts: [{ id: 'alice', user: 'alice', server: peer.uri, transport: 'udp' }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers: { t1: 100, t2: 400 },
      sockets: network,
    });
    alice.subscribe((e) => events.push(e));
    cleanup.push(() => alice.shutdown());
    await alice.register();
    const snapshots = (id: string): CallSnapshot[] => events.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === id).map((e) => e.call);
    return { alice, snapshots };
  }

  it("plays the far end's audio before the answer, flags it for the UI, sends nothing until the 200, then follows the 200's SDP", async () => {
    const peer = await scriptPeer();
    const announcement = await RtpPeer.open();
    const ringback = await RtpPeer.open();
    const callee = await RtpPeer.open();
    cleanup.push(() => announcement.close(), () => ringback.close(), () => callee.close());
    const { alice, snapshots } = await registeredPhone(peer);

    const call = await alice.call({ target: 'bob' });
    const invite = await peer.take(peer.request('INVITE'));
    const phoneRtpPort = Number(/^m=audio (\d+)/m.exec(invite.body)![1]);
    const contact = [`Contact: <sip:bob@127.0.0.1:${peer.endpoint.port}>`];

    // A 180 without SDP: ringing, the UI plays its own ringback.
    await peer.reply(invite, 180, 'Ringing', contact, '', 'b1');
    const ringing = await until(() => snapshots(call.id).find((s) => s.state === 'ringing'));
    expect(ringing.earlyMedia).toBeUndefined();

    // A 183 with SDP: the network's ringback plays and the UI is told to stop its own.
    await peer.reply(invite, 183, 'Session Progress', contact, pcmuSdp(ringback.port), 'b1');
    const early = await until(() => snapshots(call.id).find((s) => s.earlyMedia === true));
    expect(early.state).toBe('ringing');
    ringback.playTone(phoneRtpPort, 425);
    await until(() => (alice.mediaOf(call.id)?.recent.toneShare(425) ?? 0) > 0.8);
    // An update: another 183 with another SDP (an announcement server now) — the early media follows it.
    await peer.reply(invite, 183, 'Session Progress', contact, pcmuSdp(announcement.port, 2), 'b1');
    announcement.playTone(phoneRtpPort, 1000);
    await until(() => (alice.mediaOf(call.id)?.recent.toneShare(1000) ?? 0) > 0.8);
    expect(alice.mediaOf(call.id)!.stats().remoteRtp).toBe(`127.0.0.1:${announcement.port}`);
    // The media clock has run frames for the tone to play: had it been sending, it would have sent on each of them.
    expect(alice.mediaOf(call.id)!.stats()).toMatchObject({ packetsSent: 0, sending: false, receiving: true });
    expect(announcement.received + ringback.received).toBe(0);

    // The 200 names another media address (the callee's, not the announcement server's): the stream follows it.
    await peer.reply(invite, 200, 'OK', contact, pcmuSdp(callee.port, 3), 'b1');
    await peer.take(peer.request('ACK'));
    const established = await until(() => snapshots(call.id).find((s) => s.state === 'established'));
    expect(established.earlyMedia).toBeUndefined();
    await until(() => callee.received > 3);
    expect(alice.mediaOf(call.id)!.stats().remoteRtp).toBe(`127.0.0.1:${callee.port}`);
    expect(announcement.received + ringback.received).toBe(0);
  });

  it('rings and plays the early media of a 180 and a 183 without Contact (Linphone without 100rel); the ACK and BYE go to the Contact of the 200', async () => {
    const peer = await scriptPeer();
    const ringback = await RtpPeer.open();
    cleanup.push(() => ringback.close());
    const { alice, snapshots } = await registeredPhone(peer);

    const call = await alice.call({ target: 'bob' });
    const invite = await peer.take(peer.request('INVITE'));
    const phoneRtpPort = Number(/^m=audio (\d+)/m.exec(invite.body)![1]);

    // linphonec 5.1.65 with --real-early-media and 100rel off: its 180 and 183 carry no Contact (RFC 3261 §12.1.1 wants one)
    await peer.reply(invite, 180, 'Ringing', [], '', 'l1');
    await until(() => snapshots(call.id).find((s) => s.state === 'ringing'));
    await peer.reply(invite, 183, 'Session Progress', [], pcmuSdp(ringback.port), 'l1');
    const early = await until(() => snapshots(call.id).find((s) => s.earlyMedia === true));
    expect(early.state).toBe('ringing');
    ringback.playTone(phoneRtpPort, 440);
    await until(() => (alice.mediaOf(call.id)?.recent.toneShare(440) ?? 0) > 0.8);

    // The 200 carries a Contact (a 2xx without one is still dropped): the dialog's remote target is that Contact.
    const target = `sip:dave@127.0.0.1:${peer.endpoint.port}`;
    await peer.reply(invite, 200, 'OK', [`Contact: <${target}>`], pcmuSdp(ringback.port), 'l1');
    const ack = await peer.take(peer.request('ACK'));
    expect(ack.uri).toBe(target);
    await until(() => snapshots(call.id).find((s) => s.state === 'established'));
    expect(peer.received.filter(peer.request('ACK'))).toEqual([]);

    await alice.hangup(call.id);
    const bye = await peer.take(peer.request('BYE'));
    expect(bye.uri).toBe(target);
    await peer.reply(bye, 200, 'OK');
    await until(() => snapshots(call.id).find((s) => s.state === 'terminated'));
  });

  it('hanging up while a 183 without Contact plays cancels the INVITE: nothing is sent in its early dialog, which has no target', async () => {
    const peer = await scriptPeer();
    const ringback = await RtpPeer.open();
    cleanup.push(() => ringback.close());
    const { alice, snapshots } = await registeredPhone(peer);

    const call = await alice.call({ target: 'bob' });
    const invite = await peer.take(peer.request('INVITE'));
    await peer.reply(invite, 183, 'Session Progress', [], pcmuSdp(ringback.port), 'l1');
    await until(() => snapshots(call.id).find((s) => s.earlyMedia === true));

    await alice.hangup(call.id);
    const cancel = await peer.take(peer.request('CANCEL'));
    expect(cancel.uri).toBe(invite.uri); // RFC 3261 §9.1: the INVITE's Request-URI, not a dialog's target
    await peer.reply(cancel, 200, 'OK', [], '', 'l1');
    await peer.reply(invite, 487, 'Request Terminated', [], '', 'l1');
    const ack = await peer.take(peer.request('ACK'));
    expect(ack.uri).toBe(invite.uri);
    await until(() => snapshots(call.id).find((s) => s.state === 'terminated'));
    expect(peer.received.filter((m) => m.kind === 'request')).toEqual([]);
  });

  it('a call refused after its early media keeps the media figures in its final snapshot (sip.js closes the media first)', async () => {
    const peer = await scriptPeer();
    const ringback = await RtpPeer.open();
    cleanup.push(() => ringback.close());
    const { alice, snapshots } = await registeredPhone(peer);

    const call = await alice.call({ target: 'bob' });
    const invite = await peer.take(peer.request('INVITE'));
    const phoneRtpPort = Number(/^m=audio (\d+)/m.exec(invite.body)![1]);
    await peer.reply(invite, 183, 'Session Progress', [`Contact: <sip:bob@127.0.0.1:${peer.endpoint.port}>`], pcmuSdp(ringback.port), 'r1');
    ringback.playTone(phoneRtpPort, 425);
    await until(() => ((alice.mediaOf(call.id)?.stats().packetsReceived ?? 0) >= 5 ? true : undefined));
    await peer.reply(invite, 486, 'Busy Here', [], '', 'r1');
    await peer.take(peer.request('ACK'));
    const ended = await until(() => snapshots(call.id).find((s) => s.state === 'terminated'));
    expect(ended.media?.packetsReceived).toBeGreaterThanOrEqual(5);
    expect(ended.media?.remoteRtp).toBe(`127.0.0.1:${ringback.port}`);
  });
});
