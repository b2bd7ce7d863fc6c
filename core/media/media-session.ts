import { randomInt } from 'node:crypto';
import type dgram from 'node:dgram';
import { frameSamples, SilenceSource, type AudioSink, type AudioSource } from './audio-frame.js';
import { DtmfReceiver, DtmfSender, type ReceivedDigit } from './dtmf.js';
import { decodeG711, encodeG711 } from './g711.js';
import { JitterBuffer } from './jitter-buffer.js';
import { MediaClock } from './media-clock.js';
import { MediaError } from './media-error.js';
import { buildBye, buildReport, ntpTime, parseRtcp, type ReportBlock } from './rtcp.js';
import { parseRtp, RtpParseError, serializeRtp } from './rtp-packet.js';
import type { RtpPortAllocator, RtpSocketPair } from './rtp-port-allocator.js';
import { RtpReceiverStats } from './rtp-receiver-stats.js';
import { formatSdp, parseSdp, type SessionDescription } from './sdp.js';
import { answerOffer, applyAnswer, buildOffer, type AudioCodecName, type LocalAudio, type NegotiatedAudio } from './sdp-negotiation.js';
import { RecentAudio } from './tone-detector.js';
import { createCryptoOffer, type SdesAgreement, type SdesCrypto } from './sdes.js';
import { SrtpSession, type SrtpStats } from './srtp-session.js';
import type { SrtpSuiteName } from './srtp-suite.js';

export interface MediaSessionOptions {
  /** Written into SDP o= and c= (a temporary address when one is in use). */
  advertisedAddress: string;
  /** Where the RTP and RTCP sockets bind. */
  bindAddress: string;
  allocator: RtpPortAllocator;
  clock?: MediaClock;
  codecs?: AudioCodecName[];
  jitterDepth?: number;
  /** RTCP report interval (RFC 3550 §6.2: 5 s minimum for a two-party session). */
  rtcpIntervalMs?: number;
  /**
   * Symmetric RTP (RFC 4961; RFC 7362 §4, "latching"): when the peer's RTP comes from another address or port than its
   * SDP names — it is behind a NAT, or its SDP names a signalling-only address — send there instead. Only one source,
   * only before anything came from the SDP's address, and only for RTP of the negotiated payload type; plain RTP only
   * once a source has sent `latchProbation` packets in sequence under one SSRC (each source counted on its own, so
   * another's packets cannot hold the peer back), SRTP at its first authentic packet. A stranger spraying single
   * packets at the port range ("RTP bleed") gets nothing; one sending 4 in sequence to the right port before the
   * peer's 4th still can: only SRTP, or latching off, stops that. Off by default.
   */
  latch?: boolean;
  /**
   * SRTP with SDES keys (RFC 3711, RFC 4568): `required` offers RTP/SAVP and takes nothing else, `preferred` offers
   * RTP/SAVP and takes plain RTP when the peer has no SRTP; absent: plain RTP only. The caller gives it only when the
   * signalling to the next hop is TLS (the keys travel in the SDP).
   */
  encryption?: 'required' | 'preferred';
  /**
   * Seconds of received audio kept for tone checks (`recent`); 2 by default, 0 keeps none. A scripted run keeps it only
   * when a step checks audio: 2 s are 32 KB a media session, 6.4 MB for 100 calls with both ends in one process.
   */
  recentAudioSeconds?: number;
}

/** Whether a call's audio is encrypted, and how (the call snapshot, the call log, the scenario report). */
export type MediaEncryption = { kind: 'srtp'; suite: SrtpSuiteName } | { kind: 'none' };

/** Per call and direction: what the report, the call log and the UI show about media. */
export interface MediaStats {
  codec?: AudioCodecName;
  localRtp: string;
  remoteRtp?: string;
  sending: boolean;
  receiving: boolean;
  localHold: boolean;
  remoteDirection?: string;
  packetsSent: number;
  octetsSent: number;
  packetsReceived: number;
  packetsLost: number;
  lossPercent: number;
  jitterMs: number;
  latePackets: number;
  concealedFrames: number;
  ssrcChanges: number;
  /** Where media goes since the peer's RTP came from elsewhere than its SDP named (symmetric RTP). */
  latchedTo?: string;
  dtmfSent: number;
  dtmfReceived: string;
  /** What the far end said about our stream in its last RTCP report. */
  remoteReport?: { lossPercent: number; jitterMs: number };
  rejected: Record<string, number>;
  /** SRTP with its suite once negotiated, or none (also before the offer/answer is done). */
  encryption: MediaEncryption;
}

type RejectReason = 'UNEXPECTED_SOURCE' | 'LATCH_PROBATION' | 'WRONG_PAYLOAD_TYPE' | 'NOT_NEGOTIATED' | 'BAD_RTCP' | 'SEND_FAILED' | string;

/**
 * Plain RTP from a source the SDP does not name is latched onto only after this many packets in sequence from it, under
 * one SSRC (Asterisk's strictrtp learning takes 4, its `probation`): the packets before are dropped, 60 ms of audio.
 */
export const latchProbation = 4;
/** Sources on probation at once: the oldest goes first (a spray of single packets comes from many). */
const latchCandidatesKept = 32;

function canonical(address: string): string {
  if (!address.includes(':')) return address;
  try {
    return new URL(`http://[${address.replace(/^\[|\]$/g, '')}]/`).hostname.slice(1, -1);
  } catch {
    return address.toLowerCase();
  }
}

/**
 * One call's audio over plain RTP (RFC 3550, RFC 3551 G.711, RFC 4733 events): the socket pair from the port range,
 * the SDP offer/answer state, a 20 ms send loop on the shared clock, a jitter buffer on the way in, RTCP reports,
 * and hostile-input checks — packets from anyone but the negotiated peer, with an unnegotiated payload type, or
 * malformed, are dropped and counted.
 */
export class MediaSession {
  readonly recent: RecentAudio;
  private readonly sinks: Set<AudioSink>;
  private source: AudioSource = new SilenceSource();
  private negotiated: NegotiatedAudio | undefined;
  /** Our SDES keys for this call (RFC 4568), made with the first offer or answer that needs them. */
  private cryptoOffer: SdesCrypto[] | undefined;
  private srtp: SrtpSession | undefined;
  private srtpKeys: SdesAgreement | undefined;
  private localHold = false;
  /** Early media (RFC 3960 §3): the peer's audio plays, ours is not sent until the call is answered. */
  private early = false;
  // RFC 4566 §5.2 leaves o= session id and version to the sender: random per call, so neither counts the calls before
  // it nor ties them together (issue 17 item 3), like SSRC, sequence, timestamp and CNAME below (RFC 3550 §5.1, §8).
  private version = randomInt(0, 2 ** 30);
  /** The last description we made, to keep its version when the next is the same (RFC 3264 §8). */
  private lastDescription: string | undefined;
  /** Version and description before our latest offer, for its rollback. */
  private beforeOffer: { version: number; lastDescription: string | undefined } | undefined;
  private readonly sessionId = String(randomInt(1, 2 ** 47));
  // from randomInt's cache of CSPRNG bytes: randomBytes asks OpenSSL again for every call, on the way to the 200
  private readonly ssrc = randomInt(0, 2 ** 32);
  private readonly cname = randomCname();
  private sequence = randomInt(0, 0x10000);
  private timestamp = randomInt(0, 2 ** 31);
  private readonly frame = new Int16Array(frameSamples);
  private readonly payload = new Uint8Array(frameSamples);
  private readonly jitter: JitterBuffer;
  private readonly receiver = new RtpReceiverStats();
  private readonly dtmfSender = new DtmfSender();
  private readonly dtmfReceiver: DtmfReceiver;
  private readonly digitListeners = new Set<(digit: ReceivedDigit) => void>();
  private readonly negotiationListeners = new Set<(stats: MediaStats) => void>();
  private readonly rejected = new Map<RejectReason, number>();
  private remoteSsrc: number | undefined;
  /**
   * Symmetric RTP: where the peer's RTP really comes from, once latched. Its RTCP is guessed on the next port (RFC 3550
   * §11) until the peer's own RTCP comes from that address, whose port it then is (symmetric RTCP, RFC 4961 §3).
   */
  private latched: { address: string; rtpPort: number; rtcpPort: number } | undefined;
  /**
   * The peer the SDP last named. A hold with c=0.0.0.0 (or a rejected stream) names nobody and does not replace it: the
   * peer is the same, and what was latched for it holds on resume rather than opening the latching window again.
   */
  private sdpPeer: { address: string; rtpPort: number; rtcpPort: number } | undefined;
  /** The port the peer's RTCP comes from, once heard (a port of the peer's address, kept for the negotiation). */
  private rtcpSource: number | undefined;
  /**
   * Where earlier answers sent the media (an announcement server's early media before the 200 moved it), and the
   * sources latched onto for them: their late packets are dropped, never latched onto in place of the peer the new SDP
   * names.
   */
  private readonly retiredRemotes = new Map<string, string>();
  /** RTP came from the address the SDP names: nothing is latched for this negotiation. */
  private heardFromSdp = false;
  /** Sources plain RTP may be latched onto once one has sent `latchProbation` packets in sequence, each on its own. */
  private readonly latchCandidates = new Map<string, { ssrc: number; sequence: number; count: number }>();
  private ssrcChanges = 0;
  /**
   * What earlier remote sources (before an SSRC change) brought: the receiver's statistics start afresh for each
   * source (RFC 3550 §8.2, so RTCP reports the current one), but the leg's counts are the whole call's.
   */
  private readonly earlierSources = { received: 0, lost: 0 };
  private packetsSent = 0;
  private octetsSent = 0;
  private dtmfSent = 0;
  private digitsReceived = '';
  private remoteReport: MediaStats['remoteReport'];
  private lastSr: { middle: number; at: number } | undefined;
  private ticksSinceRtcp = 0;
  /** RTP and RTCP of the call taken from the peer, and SDPs naming a new peer: the far end is there (lifeSigns). */
  private signsOfLife = 0;
  private talkspurt = true;
  private unsubscribe: (() => void) | undefined;
  private closed = false;
  /** Muted: the source keeps its pace but silence goes out (RTP keeps flowing, so the peer sees no hold). */
  muted = false;

  private constructor(
    private readonly options: MediaSessionOptions,
    private readonly sockets: RtpSocketPair,
  ) {
    this.recent = new RecentAudio(options.recentAudioSeconds);
    this.sinks = new Set<AudioSink>([this.recent]);
    this.jitter = new JitterBuffer(options.jitterDepth ?? 3);
    this.dtmfReceiver = new DtmfReceiver((digit) => {
      this.digitsReceived += digit.digit;
      for (const listener of this.digitListeners) listener(digit);
    });
    sockets.rtp.on('message', (data, rinfo) => this.onRtp(data, rinfo));
    sockets.rtcp.on('message', (data, rinfo) => this.onRtcp(data, rinfo));
    sockets.rtp.on('error', () => this.reject('SOCKET_ERROR'));
    sockets.rtcp.on('error', () => this.reject('SOCKET_ERROR'));
  }

  static async open(options: MediaSessionOptions): Promise<MediaSession> {
    const sockets = await options.allocator.allocate(options.bindAddress);
    return new MediaSession(options, sockets);
  }

  get localRtpPort(): number {
    return this.sockets.rtpPort;
  }

  /** Our side of the description (its o= version is the last one's; `versioned` moves it). */
  private local(): LocalAudio {
    return {
      address: this.options.advertisedAddress,
      ...(this.options.bindAddress !== this.options.advertisedAddress ? { bindAddress: this.options.bindAddress } : {}),
      rtpPort: this.sockets.rtpPort,
      codecs: this.options.codecs ?? ['PCMU', 'PCMA'],
      direction: this.localHold ? 'sendonly' : 'sendrecv',
      sessionId: this.sessionId,
      version: this.version,
      // RFC 4568 §7.1.1: keys fresh from the CSPRNG for this call, the same in its re-offers (hold, resume)
      ...(this.options.encryption ? { srtp: { policy: this.options.encryption, offer: (this.cryptoOffer ??= createCryptoOffer()) } } : {}),
    };
  }

  /** Our SDP offer; `hold` offers sendonly (RFC 3264 §8.4). */
  createOffer(hold = this.localHold): string {
    this.assertOpen();
    this.beforeOffer = { version: this.version, lastDescription: this.lastDescription };
    this.localHold = hold;
    return this.versioned(buildOffer(this.local()));
  }

  /** Take the peer's offer and return our answer; a bad or unusable offer throws MediaError (→ 488). */
  acceptOffer(sdp: string, hold = this.localHold): string {
    this.assertOpen();
    this.localHold = hold;
    const { answer, negotiated } = answerOffer(parseSdp(sdp), this.local());
    this.apply(negotiated);
    return this.versioned(answer);
  }

  /**
   * Our offer or answer as text, with the o= version RFC 3264 §8 asks for: the last one's when nothing else changed (a
   * session refresh, RFC 4028, re-offers the same session; a peer that sees a new version may take it for a change and
   * renegotiate or restart its media), the next one when anything did (hold, resume, a new answer or key).
   */
  private versioned(description: SessionDescription): string {
    description.origin.version = String(this.version);
    const same = formatSdp(description);
    if (same === this.lastDescription) return same;
    description.origin.version = String(++this.version);
    this.lastDescription = formatSdp(description);
    return this.lastDescription;
  }

  /** Take the peer's answer to our offer; `early`: a 18x's, so we only listen until the call is answered. */
  acceptAnswer(sdp: string, options: { early?: boolean } = {}): void {
    this.assertOpen();
    const negotiated = applyAnswer(parseSdp(sdp), this.local());
    this.early = options.early ?? false;
    this.apply(negotiated);
  }

  /** Whether the media is early media: the peer's audio plays, ours waits for the answer. */
  get isEarly(): boolean {
    return this.early;
  }

  /**
   * Undo an offer the peer refused (a re-INVITE answered 491 or 500): the hold state goes back, and so does the o=
   * version (RFC 3264 §8: the session is as it was, so the next offer of the same session is that description again).
   */
  rollback(previousHold: boolean): void {
    this.localHold = previousHold;
    if (this.beforeOffer) ({ version: this.version, lastDescription: this.lastDescription } = this.beforeOffer);
    this.beforeOffer = undefined;
  }

  get onHold(): boolean {
    return this.localHold;
  }

  /** Check an offer without taking it: throws the MediaError an answer would throw. */
  checkOffer(sdp: string): void {
    answerOffer(parseSdp(sdp), this.local());
  }

  /** Replace what we send (a WAV file, a tone, the microphone port); silence when it ends. */
  play(source: AudioSource): void {
    this.source = source;
    this.talkspurt = true;
  }

  get playing(): string {
    return this.source.description;
  }

  addSink(sink: AudioSink): () => void {
    this.sinks.add(sink);
    return () => {
      this.sinks.delete(sink);
      sink.close?.();
    };
  }

  /** Queue RFC 4733 digits; false when the peer did not negotiate telephone-event. */
  sendDtmf(digits: string): boolean {
    if (!this.negotiated?.dtmfPayloadType) return false;
    this.dtmfSender.enqueue(digits);
    return true;
  }

  onDigit(listener: (digit: ReceivedDigit) => void): () => void {
    this.digitListeners.add(listener);
    return () => this.digitListeners.delete(listener);
  }

  /**
   * A count that moves whenever the far end shows it is there: RTP of the call taken from it, or its RTCP reports
   * (RFC 3550 §6.2: a peer that sends no audio while the user is silent, or while held, still reports) — authentic
   * SRTCP, or plain RTCP from the SSRC the call's RTP comes from, and not its BYE; never anything dropped, so a
   * stranger's packets keep no dead call alive — or an SDP that names a new peer (its window starts). A re-offer of
   * the same peer does not count: a session refresh (RFC 4028) shows the signalling is up, not the far end. The media
   * timeout (core/phone/media-timeout.ts) reads it.
   */
  get lifeSigns(): number {
    return this.signsOfLife;
  }

  /** Audio is to flow both ways: the call is on nobody's hold (RFC 3264 §8.4: sendrecv on both sides). */
  get duplex(): boolean {
    const n = this.negotiated;
    return n !== undefined && n.send && n.receive && !this.localHold && !this.early;
  }

  onNegotiated(listener: (stats: MediaStats) => void): () => void {
    this.negotiationListeners.add(listener);
    return () => this.negotiationListeners.delete(listener);
  }

  stats(): MediaStats {
    const n = this.negotiated;
    const stats: MediaStats = {
      localRtp: `${this.options.advertisedAddress.includes(':') ? `[${this.options.advertisedAddress}]` : this.options.advertisedAddress}:${this.sockets.rtpPort}`,
      sending: this.isSending,
      receiving: n?.receive ?? false,
      localHold: this.localHold,
      packetsSent: this.packetsSent,
      octetsSent: this.octetsSent,
      packetsReceived: this.earlierSources.received + this.receiver.received,
      packetsLost: this.earlierSources.lost + Math.max(0, this.receiver.lost),
      lossPercent: Math.round(lossPercent(this.earlierSources.lost + Math.max(0, this.receiver.lost), this.earlierSources.received + this.receiver.received) * 100) / 100,
      jitterMs: Math.round(this.receiver.jitterMs * 100) / 100,
      latePackets: this.jitter.late,
      concealedFrames: this.jitter.concealed,
      ssrcChanges: this.ssrcChanges,
      dtmfSent: this.dtmfSent,
      dtmfReceived: this.digitsReceived,
      rejected: Object.fromEntries(this.rejected),
      encryption: this.srtp ? { kind: 'srtp', suite: this.srtp.suite } : { kind: 'none' },
    };
    if (n) {
      stats.codec = n.codec;
      stats.remoteDirection = n.remoteDirection;
      if (n.remote) stats.remoteRtp = `${n.remote.address.includes(':') ? `[${n.remote.address}]` : n.remote.address}:${n.remote.rtpPort}`;
      if (this.latched) stats.latchedTo = `${this.latched.address.includes(':') ? `[${this.latched.address}]` : this.latched.address}:${this.latched.rtpPort}`;
    }
    if (this.remoteReport) stats.remoteReport = this.remoteReport;
    return stats;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    // No digit or negotiation comes after: the listeners (which hold the call) go now, not when sip.js lets go of the
    // session (its INVITE transaction lingers 64·T1 after the call, RFC 6026 §7.1).
    this.digitListeners.clear();
    this.negotiationListeners.clear();
    const remote = this.rtcpTarget;
    const finish = (): void => {
      for (const sink of this.sinks) sink.close?.();
      this.sockets.release();
    };
    if (remote && this.packetsSent > 0) {
      const bye = buildBye(this.ssrc, this.cname);
      this.sockets.rtcp.send(this.srtp ? this.srtp.protectRtcp(bye) : bye, remote.port, remote.address, () => finish());
    } else {
      finish();
    }
  }

  private get isSending(): boolean {
    return !this.closed && !this.localHold && !this.early && (this.negotiated?.send ?? false);
  }

  /** Where RTP goes: the latched source, else what the SDP names; nowhere while the SDP names nobody. */
  private get target(): { address: string; rtpPort: number; rtcpPort: number } | undefined {
    return this.negotiated?.remote ? (this.latched ?? this.negotiated.remote) : undefined;
  }

  /** Where RTCP goes: the same address, at the port the peer's RTCP comes from once heard (symmetric RTCP, RFC 4961 §3). */
  private get rtcpTarget(): { address: string; port: number } | undefined {
    const to = this.target;
    return to && { address: to.address, port: this.rtcpSource ?? to.rtcpPort };
  }

  /** Where the peer's RTP is taken from: the latched source, else the peer the SDP last named (also during its hold). */
  private get peerSource(): { address: string; rtpPort: number; rtcpPort: number } | undefined {
    return this.latched ?? this.sdpPeer;
  }

  private apply(negotiated: NegotiatedAudio): void {
    const before = this.sdpPeer;
    const after = negotiated.remote;
    if (after && (!before || canonical(before.address) !== canonical(after.address) || before.rtpPort !== after.rtpPort)) {
      // A new peer address: whatever was learnt about the old one is void, and neither it nor the source latched onto
      // for it (an announcement server behind a NAT sending early media) may be latched onto in place of the new one —
      // each retired for the peer it belonged to, which has them back should an SDP name it again (a call moved to a
      // music-on-hold server and back).
      const peer = endpointKey(after.address, after.rtpPort);
      for (const [source, owner] of this.retiredRemotes) if (owner === peer) this.retiredRemotes.delete(source);
      if (before) {
        const owner = endpointKey(before.address, before.rtpPort);
        this.retiredRemotes.set(owner, owner);
        if (this.latched) this.retiredRemotes.set(endpointKey(this.latched.address, this.latched.rtpPort), owner);
      }
      this.latched = undefined;
      this.latchCandidates.clear();
      this.heardFromSdp = false;
      this.rtcpSource = undefined;
      this.sdpPeer = after;
      this.signsOfLife++; // a new peer: its own window
    } else if (after && before && after.rtcpPort !== before.rtcpPort) {
      this.sdpPeer = after; // only its RTCP port moved (a=rtcp, RFC 3605): RTCP is learnt again
      this.rtcpSource = undefined;
    }
    this.negotiated = negotiated;
    const agreed = negotiated.srtp;
    // The same keys again (a re-INVITE for hold) keep the session and its rollover counters (RFC 3711 §3.3.1).
    if (!agreed) this.srtp = undefined;
    else if (!this.srtp || !sameKeys(this.srtpKeys!, agreed)) {
      this.srtp = new SrtpSession({ suite: agreed.suite, local: agreed.local, remote: agreed.remote });
      this.srtpKeys = agreed;
    }
    this.talkspurt = true;
    this.unsubscribe ??= (this.options.clock ?? MediaClock.shared).subscribe(() => this.tick());
    const stats = this.stats();
    for (const listener of this.negotiationListeners) listener(stats);
  }

  private tick(): void {
    if (this.closed) return;
    const n = this.negotiated;
    const played = this.jitter.pop();
    if (played && n?.receive) for (const sink of this.sinks) sink.write(played.samples);
    if (n && ++this.ticksSinceRtcp * 20 >= (this.options.rtcpIntervalMs ?? 5000)) {
      this.ticksSinceRtcp = 0;
      this.sendReport();
    }
    if (!n || !n.remote || !this.isSending) {
      // Early media: what the microphone takes before the answer is dropped as it comes, never sent late nor left
      // queued as delay once the call is answered.
      if (this.early && !this.closed) this.source.read(this.frame);
      this.timestamp = (this.timestamp + frameSamples) >>> 0;
      this.talkspurt = true;
      return;
    }
    const dtmf = n.dtmfPayloadType !== undefined ? this.dtmfSender.tick(this.timestamp) : undefined;
    if (dtmf) {
      if (dtmf.marker) this.dtmfSent++;
      this.send({ marker: dtmf.marker, payloadType: n.dtmfPayloadType!, timestamp: dtmf.timestamp, payload: dtmf.payload });
    } else {
      this.source.read(this.frame);
      if (this.muted) this.frame.fill(0);
      encodeG711(n.codec, this.frame, this.payload);
      this.send({ marker: this.talkspurt, payloadType: n.payloadType, timestamp: this.timestamp, payload: this.payload });
      this.talkspurt = false;
    }
    this.timestamp = (this.timestamp + frameSamples) >>> 0;
  }

  private send(packet: { marker: boolean; payloadType: number; timestamp: number; payload: Uint8Array }): void {
    const remote = this.target!;
    const srtp = this.srtp;
    // with SRTP the packet is built with room for the MKI and tag, and protected where it lies
    const built = serializeRtp({ ...packet, sequence: this.sequence, ssrc: this.ssrc }, srtp?.rtpTrailerLength ?? 0);
    const data = srtp ? srtp.protectRtpInPlace(built, 12 + packet.payload.length) : built;
    this.sequence = (this.sequence + 1) & 0xffff;
    this.packetsSent++;
    this.octetsSent += packet.payload.length;
    this.sockets.rtp.send(data, remote.rtpPort, remote.address, (error) => error && this.reject('SEND_FAILED'));
  }

  private onRtp(received: Buffer, rinfo: dgram.RemoteInfo): void {
    let data = received;
    const n = this.negotiated;
    if (!n) return this.reject('NOT_NEGOTIATED');
    const remote = this.sdpPeer;
    const source = this.peerSource;
    const from = (to: { address: string; rtpPort: number } | undefined): boolean => to !== undefined && canonical(rinfo.address) === canonical(to.address) && rinfo.port === to.rtpPort;
    // RFC 3550 §8.2 / §9: only the negotiated peer's RTP is ours; anything else is dropped — unless it is the peer
    // behind a NAT and this session latches (symmetric RTP, below)
    const latching =
      !from(source) && this.options.latch === true && this.latched === undefined && !this.heardFromSdp && remote !== undefined && !this.retiredRemotes.has(endpointKey(rinfo.address, rinfo.port));
    if (!from(source) && !latching) return this.reject('UNEXPECTED_SOURCE');
    if (this.srtp) {
      // RFC 3711 §3.3: a packet that fails authentication or replays an index is dropped, counted, never played (and
      // never latched onto: with SRTP only the holder of the keys can move the stream)
      const checked = this.srtp.unprotectRtp(data);
      if (!checked.ok) return this.reject(latching ? 'UNEXPECTED_SOURCE' : `SRTP_${checked.error.code}`);
      data = checked.packet;
    }
    let packet;
    try {
      packet = parseRtp(data);
    } catch (error) {
      return this.reject(latching ? 'UNEXPECTED_SOURCE' : error instanceof RtpParseError ? error.reason : 'MALFORMED');
    }
    const isDtmf = packet.payloadType === n.dtmfPayloadType;
    if (!isDtmf && packet.payloadType !== n.payloadType && packet.payloadType !== 13) return this.reject(latching ? 'UNEXPECTED_SOURCE' : 'WRONG_PAYLOAD_TYPE');
    // Only a packet that is RTP of this call (authentic, with SRTP) ends latching for this negotiation: a datagram
    // merely sent from the SDP's address (spoofable) and not a valid packet of ours does not.
    if (!this.latched && from(remote)) this.heardFromSdp = true;
    if (latching && !this.srtp && !this.onProbation(rinfo, packet)) return this.reject('LATCH_PROBATION');
    if (latching) {
      this.latched = { address: rinfo.address, rtpPort: rinfo.port, rtcpPort: rinfo.port + 1 };
      this.rtcpSource = undefined; // RTCP heard from the SDP's address before is not the latched source's
    }
    if (this.remoteSsrc !== undefined && packet.ssrc !== this.remoteSsrc) {
      this.ssrcChanges++;
      this.earlierSources.received += this.receiver.received;
      this.earlierSources.lost += Math.max(0, this.receiver.lost);
      this.receiver.reset();
      this.jitter.restart();
    }
    this.remoteSsrc = packet.ssrc;
    this.signsOfLife++;
    this.receiver.update(packet.sequence, packet.timestamp, performance.timeOrigin + performance.now(), !isDtmf);
    if (isDtmf) {
      this.dtmfReceiver.receive(packet.timestamp, packet.payload);
      this.jitter.push(packet.sequence, this.jitter.frame().fill(0)); // the event replaces audio for its duration
    } else if (packet.payloadType === 13) {
      this.jitter.push(packet.sequence, this.jitter.frame().fill(0)); // comfort noise (RFC 3389): play silence
    } else {
      // decoded into a frame already played (jitter-buffer.ts): no allocation per packet
      const pcm = this.jitter.frame();
      if (packet.payload.length !== frameSamples) {
        // ptime other than 20 ms: decode what came, pad or cut to one frame (we asked for 20 ms)
        pcm.fill(0);
        decodeG711(n.codec, packet.payload.subarray(0, frameSamples), pcm.subarray(0, Math.min(frameSamples, packet.payload.length)));
      } else {
        decodeG711(n.codec, packet.payload, pcm);
      }
      this.jitter.push(packet.sequence, pcm);
    }
  }

  /** Whether this packet completes its source's probation: `latchProbation` in sequence from it, under one SSRC. */
  private onProbation(rinfo: dgram.RemoteInfo, packet: { ssrc: number; sequence: number }): boolean {
    const key = endpointKey(rinfo.address, rinfo.port);
    const candidate = this.latchCandidates.get(key);
    if (candidate && candidate.ssrc === packet.ssrc && packet.sequence === ((candidate.sequence + 1) & 0xffff)) {
      candidate.sequence = packet.sequence;
      candidate.count++;
      return candidate.count >= latchProbation;
    }
    this.latchCandidates.delete(key);
    this.latchCandidates.set(key, { ssrc: packet.ssrc, sequence: packet.sequence, count: 1 });
    if (this.latchCandidates.size > latchCandidatesKept) this.latchCandidates.delete(this.latchCandidates.keys().next().value!);
    return latchProbation <= 1;
  }

  /**
   * The peer's RTCP: from the address its RTP is taken from, and there from one port — the SDP's RTCP port, or with
   * latching on (a peer behind a NAT) the first port it comes from; reports then go back to that port (symmetric RTCP,
   * RFC 4961 §3). Anything else is dropped and counted.
   */
  private onRtcp(received: Buffer, rinfo: dgram.RemoteInfo): void {
    let data = received;
    const peer = this.peerSource;
    if (!peer || canonical(rinfo.address) !== canonical(peer.address)) return this.reject('UNEXPECTED_SOURCE');
    const expected = this.rtcpSource ?? (this.options.latch === true ? undefined : peer.rtcpPort);
    if (expected !== undefined && rinfo.port !== expected) return this.reject('UNEXPECTED_SOURCE');
    if (this.srtp) {
      const checked = this.srtp.unprotectRtcp(data);
      if (!checked.ok) return this.reject(`SRTCP_${checked.error.code}`);
      data = checked.packet;
    }
    let parsed;
    try {
      parsed = parseRtcp(data);
    } catch {
      return this.reject('BAD_RTCP');
    }
    if (expected === undefined) {
      // Learning the port (latching on): plain RTCP must speak for the RTP stream the call gets (its SSRC, which
      // only the path and the peer see) — anyone else behind the peer's NAT could otherwise take our reports.
      if (!this.srtp && (this.remoteSsrc === undefined || !parsed.reports.some((report) => report.ssrc === this.remoteSsrc))) return this.reject('UNEXPECTED_SOURCE');
      this.rtcpSource = rinfo.port; // this port is the peer's from now on
    }
    if (this.rtcpSource === undefined) this.rtcpSource = rinfo.port;
    // the peer's goodbye is no sign it is there; plain RTCP speaks for the call only from its RTP's SSRC
    if (parsed.bye.length === 0 && (this.srtp || (this.remoteSsrc !== undefined && parsed.reports.some((report) => report.ssrc === this.remoteSsrc)))) this.signsOfLife++;
    for (const report of parsed.reports) {
      if (report.sender) this.lastSr = { middle: ((report.sender.ntpSeconds & 0xffff) << 16) | (report.sender.ntpFraction >>> 16), at: Date.now() };
      const ours = report.blocks.find((b) => b.ssrc === this.ssrc);
      if (ours) this.remoteReport = { lossPercent: Math.round((ours.fractionLost / 256) * 10000) / 100, jitterMs: ours.jitter / 8 };
    }
  }

  private sendReport(): void {
    const remote = this.rtcpTarget;
    if (!remote) return;
    const blocks: ReportBlock[] = [];
    if (this.remoteSsrc !== undefined && this.receiver.hasData) {
      blocks.push({
        ssrc: this.remoteSsrc,
        fractionLost: this.receiver.takeFractionLost(),
        cumulativeLost: this.receiver.lost,
        extendedHighestSeq: this.receiver.extendedMax,
        jitter: this.receiver.jitterTimestampUnits,
        lastSr: this.lastSr?.middle ?? 0,
        delaySinceLastSr: this.lastSr ? Math.round(((Date.now() - this.lastSr.at) / 1000) * 65536) : 0,
      });
    }
    const ntp = ntpTime();
    const report = buildReport({
      ssrc: this.ssrc,
      cname: this.cname,
      blocks,
      ...(this.packetsSent > 0 ? { sender: { ntpSeconds: ntp.seconds, ntpFraction: ntp.fraction, rtpTimestamp: this.timestamp, packets: this.packetsSent, octets: this.octetsSent } } : {}),
    });
    this.sockets.rtcp.send(this.srtp ? this.srtp.protectRtcp(report) : report, remote.port, remote.address, (error) => error && this.reject('SEND_FAILED'));
  }

  /** SRTP packets counted by the session (sent, received, refused), when the call is encrypted. */
  srtpStats(): SrtpStats | undefined {
    return this.srtp?.stats();
  }

  private reject(reason: RejectReason): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
  }

  private assertOpen(): void {
    if (this.closed) throw new MediaError('CLOSED', 'the media session is closed');
  }
}

/** Lost out of expected (received + lost), as a percentage. */
function lossPercent(lost: number, received: number): number {
  return lost + received > 0 ? (100 * lost) / (lost + received) : 0;
}

/** An address and port as one comparable key. */
function endpointKey(address: string, port: number): string {
  return `${canonical(address)} ${port}`;
}

function sameKeys(a: SdesAgreement, b: SdesAgreement): boolean {
  return a.suite === b.suite && a.local.key.equals(b.local.key) && a.local.salt.equals(b.local.salt) && a.remote.key.equals(b.remote.key) && a.remote.salt.equals(b.remote.salt);
}

/** An RTCP CNAME of 12 CSPRNG bytes (RFC 7022 §4.2: at least 96 random bits, here base64url), from randomInt's cache. */
function randomCname(): string {
  const bytes = Buffer.allocUnsafe(12);
  for (let at = 0; at < 12; at += 4) bytes.writeUInt32BE(randomInt(0, 2 ** 32), at);
  return bytes.toString('base64url');
}
