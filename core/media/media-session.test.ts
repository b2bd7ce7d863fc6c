import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { frameSamples, PcmPortSource, ToneSource } from './audio-frame.js';
import { MediaError } from './media-error.js';
import { latchProbation, MediaSession } from './media-session.js';
import { relayMedia } from './media-relay.js';
import { RtpPortAllocator } from './rtp-port-allocator.js';
import { buildReport } from './rtcp.js';
import { serializeRtp } from './rtp-packet.js';
import { mediaFrames as frames } from '../../test/support/media-frames.js';
import { until } from '../../test/support/until.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));


describe('MediaSession over loopback', () => {
  const open: MediaSession[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) s.close();
    await sleep(20);
  });
  const range = { min: 42000 + Math.floor(Math.random() * 200) * 10, max: 0 };
  range.max = range.min + 9;
  const allocator = new RtpPortAllocator(range);

  async function pair(): Promise<[MediaSession, MediaSession]> {
    const a = await MediaSession.open({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', allocator, rtcpIntervalMs: 200 });
    const b = await MediaSession.open({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', allocator, rtcpIntervalMs: 200 });
    open.push(a, b);
    a.acceptAnswer(b.acceptOffer(a.createOffer()));
    return [a, b];
  }

  it('carries a 1000 Hz tone from one side to the other, with packet counts, no loss, and RTCP reports', async () => {
    const [a, b] = await pair();
    expect(a.localRtpPort % 2).toBe(0);
    expect(a.localRtpPort).toBeGreaterThanOrEqual(range.min);
    a.play(new ToneSource(1000));
    await until(() => b.stats().packetsReceived >= 40 && a.stats().remoteReport !== undefined);
    expect(b.recent.toneShare(1000)).toBeGreaterThan(0.9);
    expect(b.recent.toneShare(600)).toBeLessThan(0.05);
    expect(a.recent.toneShare(1000)).toBe(0); // b sends silence
    const stats = b.stats();
    expect(stats).toMatchObject({ codec: 'PCMU', sending: true, receiving: true, packetsLost: 0, lossPercent: 0, rejected: {} });
    expect(stats.jitterMs).toBeLessThan(20);
    expect(a.stats().remoteReport!.lossPercent).toBe(0);
  });

  it('relays two calls into each other: the caller hears the target and the target the caller, each on its own leg', async () => {
    const [caller, towardCaller] = await pair();
    const [towardTarget, target] = await pair();
    caller.play(new ToneSource(1000));
    target.play(new ToneSource(1500));
    const stop = relayMedia(towardCaller, towardTarget);
    await until(() => target.recent.toneShare(1000) > 0.8 && caller.recent.toneShare(1500) > 0.8);
    expect(target.recent.toneShare(1500)).toBeLessThan(0.05); // no echo of itself
    // stopped: the target's leg sends silence (what it still had queued first)
    stop();
    const heard: boolean[] = [];
    target.addSink({ write: (frame) => void heard.push(frame.some((sample) => sample !== 0)) });
    await until(() => heard.length >= 40);
    expect(heard.slice(-10)).toEqual(new Array(10).fill(false));
  });

  it('early media: plays what the peer sends, sends nothing, and never sends later what the microphone took before the answer', async () => {
    const a = await MediaSession.open({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', allocator, rtcpIntervalMs: 200 });
    const b = await MediaSession.open({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', allocator, rtcpIntervalMs: 200 });
    open.push(a, b);
    const answer = b.acceptOffer(a.createOffer());
    a.acceptAnswer(answer, { early: true });
    expect(a.isEarly).toBe(true);
    b.play(new ToneSource(600));
    const microphone = new PcmPortSource();
    a.play(microphone);
    const tone = new ToneSource(1000);
    for (let i = 0; i < 25; i++) {
      const frame = new Int16Array(frameSamples);
      tone.read(frame);
      microphone.push(frame);
    }
    await until(() => a.recent.toneShare(600) > 0.8);
    await frames(30);
    expect(a.stats()).toMatchObject({ packetsSent: 0, sending: false });
    a.acceptAnswer(answer);
    await until(() => b.stats().packetsReceived >= 30);
    expect(b.recent.toneShare(1000)).toBeLessThan(0.05);
  });

  it('sends RFC 4733 digits that arrive once each', async () => {
    const [a, b] = await pair();
    const digits: string[] = [];
    b.onDigit((d) => digits.push(d.digit));
    expect(a.sendDtmf('159#')).toBe(true);
    await until(() => digits.length === 4);
    expect(digits.join('')).toBe('159#');
    expect(a.stats().dtmfSent).toBe(4);
    expect(b.stats().dtmfReceived).toBe('159#');
  });

  it('stops media both ways on hold and starts it again on resume (RFC 3264 §8.4)', async () => {
    const [a, b] = await pair();
    await until(() => b.stats().packetsReceived > 5 && a.stats().packetsReceived > 5);
    a.acceptAnswer(b.acceptOffer(a.createOffer(true)));
    expect(a.stats()).toMatchObject({ sending: false, localHold: true });
    expect(b.stats()).toMatchObject({ sending: false, remoteDirection: 'sendonly' });
    await frames(5);
    const [sentA, sentB] = [a.stats().packetsSent, b.stats().packetsSent];
    await frames(15); // fifteen frames in which a sending side would have sent fifteen packets
    expect([a.stats().packetsSent, b.stats().packetsSent]).toEqual([sentA, sentB]);
    a.acceptAnswer(b.acceptOffer(a.createOffer(false)));
    await until(() => a.stats().packetsSent > sentA + 5 && b.stats().packetsSent > sentB + 5);
    expect(a.stats().sending && b.stats().sending).toBe(true);
  });

  it('keeps its o= version for a description the same as its last (a session refresh) and moves it by one for a changed one (RFC 3264 §8)', async () => {
    const [a, b] = await pair();
    const origin = (sdp: string): [string, number] => {
      const [, session, version] = /^o=- (\d+) (\d+) /m.exec(sdp)!;
      return [session!, Number(version)];
    };
    const first = a.createOffer();
    const answer = b.acceptOffer(first);
    a.acceptAnswer(answer);
    // the same session offered again, and answered again: each side's SDP as it was, version and all
    const again = a.createOffer();
    expect(again).toBe(first);
    expect(b.acceptOffer(again)).toBe(answer);
    // a change (hold), then back: one version more each time, the session id kept
    const [session, version] = origin(first);
    const hold = a.createOffer(true);
    expect(origin(hold)).toEqual([session, version + 1]);
    const heldAnswer = b.acceptOffer(hold);
    expect(heldAnswer).toMatch(/a=recvonly/);
    expect(origin(heldAnswer)[1]).toBe(origin(answer)[1] + 1);
    expect(origin(a.createOffer(true))).toEqual([session, version + 1]); // held and refreshed: still the same
    const resumed = a.createOffer(false);
    expect(origin(resumed)).toEqual([session, version + 2]);
    expect(resumed.replace(/^o=.*$/m, '')).toBe(first.replace(/^o=.*$/m, ''));
    // a hold the peer refuses (491) is rolled back: the next refresh is the resumed description again, version and all
    a.acceptAnswer(b.acceptOffer(resumed));
    a.createOffer(true);
    a.rollback(false);
    expect(a.createOffer()).toBe(resumed);
  });

  it('is held by a peer that offers c=0.0.0.0 (RFC 2543 style): answers recvonly and sends nothing (RFC 3264 §8.4; issue 19 item 7)', async () => {
    const [a, b] = await pair();
    await until(() => b.stats().packetsSent > 5);
    const held = a.createOffer(false).replace(/^c=IN IP4 .*$/m, 'c=IN IP4 0.0.0.0');
    const answer = b.acceptOffer(held);
    expect(answer).toMatch(/^a=recvonly\r$/m);
    expect(answer).toMatch(/^c=IN IP4 127\.0\.0\.1\r$/m); // b still says where it receives
    expect(b.stats()).toMatchObject({ sending: false, remoteDirection: 'sendonly' });
    await sleep(100);
    const sent = b.stats().packetsSent;
    await sleep(300);
    expect(b.stats().packetsSent).toBe(sent);
    a.acceptAnswer(b.acceptOffer(a.createOffer(false)));
    await until(() => b.stats().packetsSent > sent + 5);
    expect(b.stats()).toMatchObject({ sending: true, remoteDirection: 'sendrecv' });
  });

  it('counts the peer\'s RTP and RTCP as signs of life, and nothing a stranger sends (a media timeout reads them)', async () => {
    const [a, b] = await pair();
    expect([a.duplex, b.duplex]).toEqual([true, true]);
    await until(() => b.stats().packetsReceived > 5);
    const talking = b.lifeSigns;
    await frames(5);
    expect(b.lifeSigns).toBeGreaterThan(talking); // RTP
    a.acceptAnswer(b.acceptOffer(a.createOffer(true)));
    expect([a.duplex, b.duplex]).toEqual([false, false]); // on hold, either side's
    await frames(3); // what was on its way before the hold
    const received = b.stats().packetsReceived;
    const held = b.lifeSigns;
    await until(() => b.lifeSigns > held, 2000); // a holding peer sends no RTP, but its RTCP reports
    expect(b.stats().packetsReceived).toBe(received);
    a.close();
    await sleep(100);
    const quiet = b.lifeSigns;
    const stranger = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => stranger.bind(0, '127.0.0.1', resolve));
    for (let sequence = 1; sequence <= 8; sequence++) stranger.send(serializeRtp({ marker: false, payloadType: 0, sequence, timestamp: sequence * 160, ssrc: 7, payload: new Uint8Array(160) }), b.localRtpPort, '127.0.0.1');
    stranger.send(buildReport({ ssrc: 7, cname: 'x', blocks: [] }), b.localRtpPort + 1, '127.0.0.1');
    await until(() => (b.stats().rejected.UNEXPECTED_SOURCE ?? 0) >= 9);
    expect(b.lifeSigns).toBe(quiet);
    stranger.close();
  });

  it('drops and counts RTP from a stranger, with a wrong payload type, or malformed, and keeps going', async () => {
    const [a, b] = await pair();
    const stranger = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => stranger.bind(0, '127.0.0.1', resolve));
    const good = serializeRtp({ marker: false, payloadType: 0, sequence: 1, timestamp: 1, ssrc: 1, payload: new Uint8Array(160) });
    stranger.send(good, b.localRtpPort, '127.0.0.1');
    stranger.send(Buffer.from([1, 2, 3]), b.localRtpPort, '127.0.0.1');
    // a's own socket is the negotiated source: a wrong payload type and a truncated packet from there
    const fromA = (data: Buffer): void => (a as unknown as { sockets: { rtp: dgram.Socket } }).sockets.rtp.send(data, b.localRtpPort, '127.0.0.1');
    fromA(serializeRtp({ marker: false, payloadType: 34, sequence: 2, timestamp: 2, ssrc: 1, payload: new Uint8Array(10) }));
    fromA(Buffer.from([0x80, 0, 0]));
    await until(() => Object.values(b.stats().rejected).reduce((x, y) => x + y, 0) >= 4);
    expect(b.stats().rejected).toMatchObject({ UNEXPECTED_SOURCE: 2, WRONG_PAYLOAD_TYPE: 1, TRUNCATED: 1 });
    a.play(new ToneSource(440));
    await until(() => b.recent.toneShare(440) > 0.5);
    stranger.close();
  });

  it('counts every packet of the call when the peer changes SSRC mid-call (issue 19 item 12: SIPp uac_pcap)', async () => {
    // the peer is a bare socket, as a pcap replay is: it switches SSRC between its audio and its RFC 4733 events
    const peer = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve));
    const b = await MediaSession.open({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', allocator, rtcpIntervalMs: 200 });
    open.push(b);
    b.acceptOffer(`v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${peer.address().port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendonly\r\n`);
    const send = (ssrc: number, sequence: number): void =>
      peer.send(serializeRtp({ marker: false, payloadType: 0, sequence, timestamp: sequence * 160, ssrc, payload: new Uint8Array(160) }), b.localRtpPort, '127.0.0.1');
    for (let i = 0; i < 6; i++) send(0x1111, 100 + i);
    await until(() => b.stats().packetsReceived === 6 || undefined);
    for (let i = 0; i < 4; i++) send(0x2222, 7000 + i);
    await until(() => (b.stats().ssrcChanges === 1 && b.stats().packetsReceived >= 4) || undefined);
    send(0x1111, 110); // back to the first source: counted from a new start again
    await until(() => b.stats().ssrcChanges === 2 || undefined);
    // the leg received 11 packets in all, whatever their sources (before the fix: 1, the last source's)
    expect(b.stats()).toMatchObject({ packetsReceived: 11, ssrcChanges: 2, packetsLost: 0, lossPercent: 0 });
    peer.close();
  });

  it('latches onto a peer whose RTP comes from elsewhere than its SDP names (symmetric RTP, RFC 4961), only when asked to', async () => {
    for (const latch of [true, false]) {
      const a = await MediaSession.open({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', allocator, rtcpIntervalMs: 200, latch });
      const b = await MediaSession.open({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', allocator, rtcpIntervalMs: 200 });
      open.push(a, b);
      // b's answer names a port nobody listens on (a NAT's, or a signalling-only address's): a's RTP sent there is lost
      const answer = b.acceptOffer(a.createOffer()).replace(/^m=audio \d+/m, `m=audio ${range.max + 1000}`);
      a.acceptAnswer(answer);
      a.play(new ToneSource(1000));
      if (latch) {
        await until(() => b.recent.toneShare(1000) > 0.5);
        expect(a.stats().latchedTo).toBe(`127.0.0.1:${b.localRtpPort}`);
        expect(a.stats().rejected).toEqual({ LATCH_PROBATION: latchProbation - 1 }); // dropped while it proved itself
      } else {
        await until(() => (a.stats().rejected.UNEXPECTED_SOURCE ?? 0) >= 10);
        expect(a.stats().latchedTo).toBeUndefined();
        expect(b.stats().packetsReceived).toBe(0);
      }
    }
  });

  it('latches onto the source that sends 4 packets in sequence, each source on its own: strangers\' single packets, even between the peer\'s, neither win nor hold it back', async () => {
    const a = await MediaSession.open({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', allocator, rtcpIntervalMs: 200, latch: true });
    const b = await MediaSession.open({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', allocator, rtcpIntervalMs: 200 });
    open.push(a);
    // b only writes the answer, naming a port nobody listens on (the peer is behind a NAT); the peer's RTP comes below
    const answer = b.acceptOffer(a.createOffer()).replace(/^m=audio \d+/m, `m=audio ${range.max + 1000}`);
    b.close();
    a.acceptAnswer(answer);
    const sockets = await Promise.all(Array.from({ length: 4 }, () => new Promise<dgram.Socket>((resolve) => {
      const socket = dgram.createSocket('udp4');
      socket.bind(0, '127.0.0.1', () => resolve(socket));
    })));
    const heard = new Map(sockets.map((socket) => [socket, 0]));
    for (const socket of sockets) socket.on('message', () => heard.set(socket, heard.get(socket)! + 1));
    const [peer, ...strangers] = sockets as [dgram.Socket, ...dgram.Socket[]];
    const rtp = (sequence: number, ssrc: number): Buffer => serializeRtp({ marker: false, payloadType: 0, sequence, timestamp: sequence * 160, ssrc, payload: new Uint8Array(160) });
    const send = (socket: dgram.Socket, data: Buffer): Promise<void> => new Promise((resolve) => socket.send(data, a.localRtpPort, '127.0.0.1', () => resolve()));
    // a spray of single packets (one per source) is never latched onto
    for (const [i, stranger] of strangers.entries()) await send(stranger, rtp(100 + i, 1000 + i));
    await until(() => (a.stats().rejected.LATCH_PROBATION ?? 0) >= 3 || undefined);
    expect(a.stats().latchedTo).toBeUndefined();
    // the peer's stream, with a stranger's packet between each two of its packets: counted apart, the peer gets there
    for (let n = 0; n < latchProbation; n++) {
      await send(peer, rtp(0xfffe + n, 42)); // across the sequence wrap
      await send(strangers[n % strangers.length]!, rtp(900 + n, 2000 + n));
    }
    await until(() => a.stats().latchedTo === `127.0.0.1:${peer.address().port}` || undefined);
    a.play(new ToneSource(1000));
    await until(() => heard.get(peer)! > 5 || undefined);
    expect(strangers.map((stranger) => heard.get(stranger))).toEqual([0, 0, 0]); // none of the call's audio went to them
    for (const socket of sockets) socket.close();
  });

  /** A session `a` that latches, whose peer's SDP names a port nobody listens on (it is behind a NAT), and raw sockets. */
  async function natPeer(count: number): Promise<{ a: MediaSession; sdp: string; sockets: dgram.Socket[]; heard: Map<dgram.Socket, number>; send: (socket: dgram.Socket, data: Buffer, port?: number) => Promise<void> }> {
    const a = await MediaSession.open({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', allocator, rtcpIntervalMs: 100, latch: true });
    const b = await MediaSession.open({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', allocator, rtcpIntervalMs: 200 });
    open.push(a);
    const sdp = b.acceptOffer(a.createOffer()).replace(/^m=audio \d+/m, `m=audio ${range.max + 1000}`);
    b.close();
    const sockets = await Promise.all(Array.from({ length: count }, () => new Promise<dgram.Socket>((resolve) => {
      const socket = dgram.createSocket('udp4');
      socket.bind(0, '127.0.0.1', () => resolve(socket));
    })));
    const heard = new Map(sockets.map((socket) => [socket, 0]));
    for (const socket of sockets) socket.on('message', () => heard.set(socket, heard.get(socket)! + 1));
    const send = (socket: dgram.Socket, data: Buffer, port = a.localRtpPort): Promise<void> => new Promise((resolve) => socket.send(data, port, '127.0.0.1', () => resolve()));
    return { a, sdp, sockets, heard, send };
  }
  const rtp = (sequence: number, ssrc: number): Buffer => serializeRtp({ marker: false, payloadType: 0, sequence, timestamp: sequence * 160, ssrc, payload: new Uint8Array(160) });
  const stream = async (send: (data: Buffer) => Promise<void>, ssrc: number, from: number, count = latchProbation): Promise<void> => {
    for (let n = 0; n < count; n++) await send(rtp(from + n, ssrc));
  };

  it('keeps what it latched through a hold with c=0.0.0.0: on resume a stranger\'s stream in sequence does not take the call', async () => {
    const { a, sdp, sockets, send } = await natPeer(2);
    const [peer, stranger] = sockets as [dgram.Socket, dgram.Socket];
    a.acceptAnswer(sdp);
    await stream((d) => send(peer, d), 42, 1);
    await until(() => a.stats().latchedTo === `127.0.0.1:${peer.address().port}` || undefined);
    // the peer holds the call the RFC 2543 way (c=0.0.0.0), then resumes with its SDP as before (a re-INVITE each)
    const hold = sdp.replace(/^c=IN IP4 .*$/m, 'c=IN IP4 0.0.0.0').replace(/^o=(\S+ \S+) (\d+)/m, (_m, head: string, v: string) => `o=${head} ${Number(v) + 1}`);
    a.acceptOffer(hold);
    const resume = sdp.replace(/^o=(\S+ \S+) (\d+)/m, (_m, head: string, v: string) => `o=${head} ${Number(v) + 2}`);
    a.acceptOffer(resume);
    expect(a.stats().latchedTo).toBe(`127.0.0.1:${peer.address().port}`);
    await stream((d) => send(stranger, d), 7, 100);
    await until(() => (a.stats().rejected.UNEXPECTED_SOURCE ?? 0) >= latchProbation || undefined);
    expect(a.stats().latchedTo).toBe(`127.0.0.1:${peer.address().port}`);
    for (const socket of sockets) socket.close();
  });

  it('after early media from a source it latched onto, the answer\'s new address is latched afresh and that source never again', async () => {
    const { a, sdp, sockets, heard, send } = await natPeer(2);
    const [announcer, peer] = sockets as [dgram.Socket, dgram.Socket];
    a.acceptAnswer(sdp, { early: true });
    await stream((d) => send(announcer, d), 11, 1);
    await until(() => a.stats().latchedTo === `127.0.0.1:${announcer.address().port}` || undefined);
    // the 200's SDP names another address (the callee's, also behind a NAT); the announcement goes on a while
    a.acceptAnswer(sdp.replace(/^m=audio \d+/m, `m=audio ${range.max + 1002}`));
    expect(a.stats().latchedTo).toBeUndefined();
    await stream((d) => send(announcer, d), 11, 1 + latchProbation, 2 * latchProbation);
    await until(() => (a.stats().rejected.UNEXPECTED_SOURCE ?? 0) >= 2 * latchProbation || undefined);
    expect(a.stats().latchedTo).toBeUndefined();
    await stream((d) => send(peer, d), 77, 500);
    await until(() => a.stats().latchedTo === `127.0.0.1:${peer.address().port}` || undefined);
    a.play(new ToneSource(1000));
    const before = heard.get(announcer)!;
    await until(() => heard.get(peer)! > 5 || undefined);
    expect(heard.get(announcer)).toBe(before);
    for (const socket of sockets) socket.close();
  });

  it('a datagram from the SDP\'s address that is not RTP of the call does not stop the peer behind a NAT latching', async () => {
    const { a, sdp, sockets, send } = await natPeer(1);
    const [peer] = sockets as [dgram.Socket];
    a.acceptAnswer(sdp);
    // from the address and port the SDP names (anyone can forge that source): a wrong payload type, then a runt
    const named = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => named.bind(range.max + 1000, '127.0.0.1', resolve));
    await send(named, serializeRtp({ marker: false, payloadType: 99, sequence: 1, timestamp: 1, ssrc: 5, payload: new Uint8Array(160) }));
    await send(named, Buffer.from([0x80, 0]));
    await until(() => Object.values(a.stats().rejected).reduce((sum, n) => sum + n, 0) >= 2 || undefined);
    await stream((d) => send(peer, d), 42, 1);
    await until(() => a.stats().latchedTo === `127.0.0.1:${peer.address().port}` || undefined);
    named.close();
    peer.close();
  });

  it('symmetric RTCP: reports go to the port the latched peer\'s RTCP comes from, whose RTCP alone is taken', async () => {
    const { a, sdp, sockets, heard, send } = await natPeer(3);
    const [peerRtp, peerRtcp, other] = sockets as [dgram.Socket, dgram.Socket, dgram.Socket];
    a.acceptAnswer(sdp);
    a.play(new ToneSource(1000));
    await stream((d) => send(peerRtp, d), 42, 1);
    await until(() => a.stats().latchedTo === `127.0.0.1:${peerRtp.address().port}` || undefined);
    const reportOf = (ssrc: number): Buffer => Buffer.from(buildReport({ ssrc, cname: 'peer', blocks: [{ ssrc: 0, fractionLost: 0, cumulativeLost: 0, extendedHighestSeq: 0, jitter: 0, lastSr: 0, delaySinceLastSr: 0 }] }));
    // first, someone else behind the peer's NAT (same address, another port) who does not know the stream's SSRC
    await send(other, reportOf(4242), a.localRtpPort + 1);
    await until(() => (a.stats().rejected.UNEXPECTED_SOURCE ?? 0) > 0 || undefined);
    // the NAT maps the peer's RTCP socket to a port of its own, not RTP's + 1
    const report = reportOf(42);
    await send(peerRtcp, report, a.localRtpPort + 1);
    await until(() => heard.get(peerRtcp)! > 0 || undefined); // a's next report came back to it
    // another port of the same address: its RTCP is dropped and counted
    const rejected = a.stats().rejected.UNEXPECTED_SOURCE ?? 0;
    await send(other, report, a.localRtpPort + 1);
    await until(() => (a.stats().rejected.UNEXPECTED_SOURCE ?? 0) > rejected || undefined);
    expect(heard.get(other)).toBe(0);
    for (const socket of sockets) socket.close();
  });

  it('signs of life: the call\'s RTP and its peer\'s RTCP reports; not a re-offer of the same peer, RTCP under another SSRC, nor an RTCP BYE', async () => {
    const { a, sdp, sockets, send } = await natPeer(2);
    const [peerRtp, peerRtcp] = sockets as [dgram.Socket, dgram.Socket];
    const version = (text: string, n: number): string => text.replace(/^o=(\S+ \S+) (\d+)/m, (_m, head: string, v: string) => `o=${head} ${Number(v) + n}`);
    a.acceptAnswer(sdp);
    const answered = a.lifeSigns;
    await stream((d) => send(peerRtp, d), 42, 1); // latched at the 4th: that one is taken
    await until(() => a.lifeSigns > answered || undefined);
    const talking = a.lifeSigns;
    a.acceptOffer(version(sdp, 1)); // a session refresh (RFC 4028): the same peer again
    expect(a.lifeSigns).toBe(talking);
    const report = (ssrc: number): Buffer => Buffer.from(buildReport({ ssrc, cname: 'peer', blocks: [] }));
    await send(peerRtcp, report(42), a.localRtpPort + 1); // its RTCP port is learnt from this one
    await until(() => a.lifeSigns > talking || undefined);
    const reported = a.lifeSigns;
    await send(peerRtcp, report(4242), a.localRtpPort + 1); // from the right port, for another stream
    await send(peerRtcp, Buffer.concat([report(42), Buffer.from([0x81, 203, 0, 1, 0, 0, 0, 42])]), a.localRtpPort + 1); // its BYE
    await frames(5);
    expect(a.lifeSigns).toBe(reported);
    a.acceptOffer(version(sdp.replace(/^m=audio \d+/m, `m=audio ${range.max + 1004}`), 2)); // a new peer: its own window
    expect(a.lifeSigns).toBe(reported + 1);
    for (const socket of sockets) socket.close();
  });

  it('a call moved to another peer and back latches onto the first peer again (its source is retired only while it is not named)', async () => {
    const { a, sdp, sockets, send } = await natPeer(1);
    const [peer] = sockets as [dgram.Socket];
    const version = (text: string, n: number): string => text.replace(/^o=(\S+ \S+) (\d+)/m, (_m, head: string, v: string) => `o=${head} ${Number(v) + n}`);
    a.acceptAnswer(sdp);
    await stream((d) => send(peer, d), 42, 1);
    await until(() => a.stats().latchedTo === `127.0.0.1:${peer.address().port}` || undefined);
    a.acceptOffer(version(sdp.replace(/^m=audio \d+/m, `m=audio ${range.max + 1002}`), 1)); // to a music-on-hold server
    expect(a.stats().latchedTo).toBeUndefined();
    a.acceptOffer(version(sdp, 2)); // and back
    await stream((d) => send(peer, d), 42, 100);
    await until(() => a.stats().latchedTo === `127.0.0.1:${peer.address().port}` || undefined);
    peer.close();
  });

  it('a re-offer that moves only the RTCP port (a=rtcp) sends the reports there', async () => {
    const a = await MediaSession.open({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', allocator, rtcpIntervalMs: 100 });
    open.push(a);
    const [first, second] = await Promise.all([0, 1].map(() => new Promise<dgram.Socket>((resolve) => {
      const socket = dgram.createSocket('udp4');
      socket.bind(0, '127.0.0.1', () => resolve(socket));
    }))) as [dgram.Socket, dgram.Socket];
    const heard = new Map([[first, 0], [second, 0]]);
    for (const socket of [first, second]) socket.on('message', () => heard.set(socket, heard.get(socket)! + 1));
    const offer = (rtcp: dgram.Socket, version: number): string =>
      ['v=0', `o=- 1 ${version} IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${range.max + 1004} RTP/AVP 0`, `a=rtcp:${rtcp.address().port}`, 'a=sendrecv', ''].join('\r\n');
    a.acceptOffer(offer(first, 1));
    await until(() => heard.get(first)! > 0 || undefined);
    // the peer's own RTCP from that port: heard, so that port is the peer's
    const report = Buffer.from(buildReport({ ssrc: 9, cname: 'peer', blocks: [] }));
    await new Promise<void>((resolve) => first.send(report, a.localRtpPort + 1, '127.0.0.1', () => resolve()));
    await sleep(50);
    a.acceptOffer(offer(second, 2));
    await until(() => heard.get(second)! > 1 || undefined);
    const firstHeard = heard.get(first)!;
    await sleep(300);
    expect(heard.get(first)).toBe(firstHeard);
    first.close();
    second.close();
  });

  it('does not latch once the peer\'s RTP came from where its SDP says: a stranger cannot take the call\'s audio', async () => {
    const a = await MediaSession.open({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', allocator, rtcpIntervalMs: 200, latch: true });
    const b = await MediaSession.open({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', allocator, rtcpIntervalMs: 200 });
    open.push(a, b);
    a.acceptAnswer(b.acceptOffer(a.createOffer()));
    await until(() => a.stats().packetsReceived > 3);
    const stranger = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => stranger.bind(0, '127.0.0.1', resolve));
    stranger.send(serializeRtp({ marker: false, payloadType: 0, sequence: 1, timestamp: 1, ssrc: 7, payload: new Uint8Array(160) }), a.localRtpPort, '127.0.0.1');
    await until(() => (a.stats().rejected.UNEXPECTED_SOURCE ?? 0) >= 1);
    expect(a.stats().latchedTo).toBeUndefined();
    stranger.close();
  });

  it('refuses a call that does not fit the port range rather than using an OS port', async () => {
    const tiny = new RtpPortAllocator({ min: range.min, max: range.min + 1 });
    const first = await MediaSession.open({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', allocator: tiny });
    open.push(first);
    await expect(MediaSession.open({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', allocator: tiny })).rejects.toMatchObject({ code: 'PORT_RANGE_EXHAUSTED' });
    await expect(MediaSession.open({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', allocator: tiny })).rejects.toBeInstanceOf(MediaError);
  });
});
