import { canonicalAddress, isGroup, isLoopback, isUnspecified } from './media-address.js';
import { MediaError } from './media-error.js';
import { acceptCryptoAnswer, answerCrypto, formatCrypto, type SdesAgreement, type SdesCrypto } from './sdes.js';
import { connectionOf, directionOf, type MediaDirection, type SdpConnection, type SdpMedia, type SessionDescription } from './sdp.js';

export type AudioCodecName = 'PCMU' | 'PCMA';

/** Static payload types of RFC 3551 §6, and our preferred dynamic one for telephone-event (RFC 4733 §7.1.1). */
const staticPayloadTypes: Record<AudioCodecName, number> = { PCMU: 0, PCMA: 8 };
export const defaultDtmfPayloadType = 101;

/** What this phone says about its end of an audio stream. */
export interface LocalAudio {
  /** The address our SDP gives (a NAT's, a one-time one only signalled: applier signaling-only). */
  address: string;
  /** The address our media socket is bound to, when it differs (what a destination is judged against). */
  bindAddress?: string;
  rtpPort: number;
  /** Codecs in order of preference. */
  codecs: AudioCodecName[];
  /** What we want: sendrecv, or sendonly while we hold the call (RFC 3264 §8.4). */
  direction: MediaDirection;
  sessionId: string;
  version: number;
  /** SRTP with SDES keys (RFC 4568); absent: plain RTP/AVP only, as before. */
  srtp?: LocalSrtp;
}

/**
 * How a stream is encrypted. `required`: only SRTP — a plain offer is refused and a plain answer fails (488 with
 * the reason either way). `preferred`: SRTP when the peer has it, else plain RTP/AVP. Our offers are RTP/SAVP under
 * both; falling back to a plain re-offer after a decline is the caller's choice.
 */
export interface LocalSrtp {
  policy: 'required' | 'preferred';
  /** The keys of our offer (createCryptoOffer: fresh per call), kept until the answer; unused when we answer. */
  offer?: SdesCrypto[];
}

/** The outcome of an offer/answer exchange for the audio stream. */
export interface NegotiatedAudio {
  codec: AudioCodecName;
  payloadType: number;
  /** telephone-event payload type, when both sides have it. */
  dtmfPayloadType?: number;
  /** Where to send RTP and RTCP; absent when the stream is rejected (port 0) or held with c=0.0.0.0. */
  remote?: { address: string; rtpPort: number; rtcpPort: number };
  /** What the two directions allow us to do. */
  send: boolean;
  receive: boolean;
  /** The direction the remote side stated. */
  remoteDirection: MediaDirection;
  ptime: number;
  /** The SRTP suite and the two keys, when the stream is encrypted; absent for plain RTP. */
  srtp?: SdesAgreement;
}

const flags = (d: MediaDirection): { send: boolean; recv: boolean } => ({ send: d === 'sendrecv' || d === 'sendonly', recv: d === 'sendrecv' || d === 'recvonly' });
const fromFlags = (send: boolean, recv: boolean): MediaDirection => (send ? (recv ? 'sendrecv' : 'sendonly') : recv ? 'recvonly' : 'inactive');

/** The direction seen from the other end (RFC 3264 §6.1). */
export function reverseDirection(direction: MediaDirection): MediaDirection {
  const f = flags(direction);
  return fromFlags(f.recv, f.send);
}

function addressType(address: string): 'IP4' | 'IP6' {
  return address.includes(':') ? 'IP6' : 'IP4';
}

function audioMedia(local: LocalAudio, formats: Array<{ pt: number; name: string }>, dtmfPt: number | undefined, direction: MediaDirection, protocol = 'RTP/AVP'): SdpMedia {
  const media: SdpMedia = {
    media: 'audio',
    port: local.rtpPort,
    protocol,
    formats: [...formats.map((f) => String(f.pt)), ...(dtmfPt !== undefined ? [String(dtmfPt)] : [])],
    rtpmap: new Map(),
    fmtp: new Map(),
    ptime: 20,
    direction,
  };
  for (const f of formats) media.rtpmap.set(f.pt, { encoding: f.name, clockRate: 8000 });
  if (dtmfPt !== undefined) {
    media.rtpmap.set(dtmfPt, { encoding: 'telephone-event', clockRate: 8000 });
    media.fmtp.set(dtmfPt, '0-16');
  }
  return media;
}

function session(local: LocalAudio, media: SdpMedia[]): SessionDescription {
  // Nothing here names the user: o= carries "-" and the (possibly temporary) address, s= is "-" (RFC 4566 §5.2-5.3).
  return {
    origin: { username: '-', sessionId: local.sessionId, version: String(local.version), addressType: addressType(local.address), address: local.address },
    sessionName: '-',
    connection: { addressType: addressType(local.address), address: local.address },
    media,
  };
}

/**
 * Our offer (RFC 3264 §5): every codec we have, telephone-event, ptime 20, the direction we want; with SRTP, the
 * stream is RTP/SAVP and carries our offered keys (RFC 4568 §7.1.1).
 */
export function buildOffer(local: LocalAudio): SessionDescription {
  const formats = local.codecs.map((name) => ({ pt: staticPayloadTypes[name], name }));
  if (!local.srtp) return session(local, [audioMedia(local, formats, defaultDtmfPayloadType, local.direction)]);
  const offer = local.srtp.offer;
  if (!offer || offer.length === 0) throw new MediaError('NO_COMMON_CRYPTO', 'an SRTP offer needs keys (createCryptoOffer)');
  const media = audioMedia(local, formats, defaultDtmfPayloadType, local.direction, 'RTP/SAVP');
  media.crypto = offer.map(formatCrypto);
  return session(local, [media]);
}

/**
 * The RTP payload type an RTP/AVP format names (RFC 4566 §5.14): a number the RTP header's 7 bits can carry (RFC 3550
 * §5.1: 0-127). A larger one could never match a packet: it names no codec, and no digits.
 */
function payloadTypeOf(format: string): number | undefined {
  if (!/^\d{1,3}$/.test(format)) return undefined;
  const pt = Number(format);
  return pt <= 127 ? pt : undefined;
}

function codecOf(media: SdpMedia, format: string): AudioCodecName | undefined {
  const pt = payloadTypeOf(format);
  if (pt === undefined) return undefined;
  const map = media.rtpmap.get(pt);
  if (map) {
    const name = map.encoding.toUpperCase();
    return (name === 'PCMU' || name === 'PCMA') && map.clockRate === 8000 && (map.channels ?? 1) === 1 ? name : undefined;
  }
  return pt === 0 ? 'PCMU' : pt === 8 ? 'PCMA' : undefined; // static types need no rtpmap (RFC 3551 §6)
}

function dtmfOf(media: SdpMedia): number | undefined {
  for (const format of media.formats) {
    const pt = payloadTypeOf(format);
    const map = pt === undefined ? undefined : media.rtpmap.get(pt);
    if (map && map.encoding.toLowerCase() === 'telephone-event' && map.clockRate === 8000) return pt;
  }
  return undefined;
}

function remoteOf(description: SessionDescription, media: SdpMedia, local: LocalAudio): NegotiatedAudio['remote'] {
  const connection = connectionOf(description, media);
  if (media.port === 0 || !connection || heldConnection(connection)) return undefined;
  return { address: mediaDestination(connection, local), rtpPort: media.port, rtcpPort: media.rtcpPort ?? media.port + 1 };
}

/** RFC 3264 §8.4: a connection address of 0.0.0.0 (or ::, however written) is RFC 2543's hold. */
function heldConnection(connection: SdpConnection): boolean {
  const canonical = canonicalAddress(connection.address);
  return canonical !== undefined && isUnspecified(canonical);
}

/**
 * Where our RTP may go: an address literal, and one host. RFC 4566 §5.7 also allows a
 * name there, which would be looked up for every packet sent — telling the peer's DNS server when, and through which
 * resolver, the call was answered — and a multicast group (RFC 3264 §5.1; not a call of ours), to which, as to a
 * broadcast address, datagrams leave for every host on the link. Nor this host's loopback while our own media is on a
 * network address: no peer out there receives on it, and a caller would have our RTP stream (and its latching
 * answer) aimed at whatever service listens on that port here (RFC 3550 §9.1's concern about RTP sent where the
 * signalling says). What is refused makes a 488 (or fails our offer).
 */
function mediaDestination(connection: SdpConnection, local: LocalAudio): string {
  const { address } = connection;
  const shown = JSON.stringify(address.slice(0, 60));
  const canonical = canonicalAddress(address);
  if (canonical === undefined) throw new MediaError('BAD_SDP', `the connection address ${shown} is not an IP address`);
  if (isGroup(canonical)) throw new MediaError('BAD_SDP', `the connection address ${shown} is a multicast or broadcast address`);
  // judged by the socket, not by what our SDP says: a phone whose media is bound to loopback (the lab, a one-time
  // address only signalled) talks to peers there, whatever address it gives
  const socket = local.bindAddress ?? local.address;
  const ours = canonicalAddress(socket);
  if (isLoopback(canonical) && ours !== undefined && !isLoopback(ours)) throw new MediaError('BAD_SDP', `the connection address ${shown} is this host's loopback, and this call's media is on ${socket}`);
  return address;
}

const isAvp = (m: SdpMedia): boolean => m.protocol.toUpperCase() === 'RTP/AVP';
const isSavp = (m: SdpMedia): boolean => m.protocol.toUpperCase() === 'RTP/SAVP';

/**
 * RFC 3264 §8.4: a connection address of 0.0.0.0 — RFC 2543's hold — means nothing is to be sent to that side, whatever
 * its direction attribute says: a sendrecv stream so held is sendonly (the peer holds the call), a recvonly one inactive.
 */
function heldByAddress(direction: MediaDirection, description: SessionDescription, media: SdpMedia): MediaDirection {
  const connection = connectionOf(description, media);
  if (media.port === 0 || !connection || !heldConnection(connection)) return direction;
  return fromFlags(flags(direction).send, false);
}

function firstAudio(description: SessionDescription): number {
  return description.media.findIndex((m) => m.media === 'audio' && m.port !== 0 && isAvp(m));
}

/**
 * The offered audio stream to take, and its crypto answer when it is to be encrypted. With SRTP allowed, the first
 * RTP/SAVP or RTP/AVP stream with a usable `a=crypto` wins (RFC 4568 §7.1.2; crypto on RTP/AVP is what "best
 * effort" peers send); `preferred` then falls back to the first plain RTP/AVP stream. What made a stream unusable
 * becomes the 488's reason.
 */
function chooseStream(offer: SessionDescription, local: LocalAudio): { index: number; crypto?: ReturnType<typeof answerCrypto> } {
  if (!local.srtp) {
    const index = firstAudio(offer);
    if (index >= 0) return { index };
    if (offer.media.some((m) => m.media === 'audio' && m.port !== 0 && isSavp(m))) throw new MediaError('NO_COMMON_CRYPTO', 'no RTP/AVP audio stream offered (only RTP/SAVP, and media encryption is off)');
    throw new MediaError('NO_COMMON_CODEC', 'no RTP/AVP audio stream offered');
  }
  let problem: MediaError | undefined;
  for (const [index, m] of offer.media.entries()) {
    if (m.media !== 'audio' || m.port === 0 || !(isAvp(m) || isSavp(m))) continue;
    if (!m.crypto?.length) {
      if (isSavp(m)) problem ??= new MediaError('NO_COMMON_CRYPTO', 'an RTP/SAVP stream without a=crypto (other key exchanges are not supported)');
      continue;
    }
    try {
      return { index, crypto: answerCrypto(m.crypto) };
    } catch (error) {
      if (!(error instanceof MediaError)) throw error;
      problem ??= error;
    }
  }
  if (local.srtp.policy === 'preferred') {
    const index = firstAudio(offer);
    if (index >= 0) return { index };
  }
  if (problem) throw problem;
  if (firstAudio(offer) >= 0) throw new MediaError('NO_COMMON_CRYPTO', 'media encryption is required and the offer is plain RTP/AVP without a=crypto');
  throw new MediaError('NO_COMMON_CODEC', 'no RTP/AVP or RTP/SAVP audio stream offered');
}

/**
 * Answer an offer (RFC 3264 §6): the first plain RTP/AVP audio stream gets the offerer's most preferred codec we
 * have, telephone-event with the offerer's payload type, and a direction no wider than what the offer allows and
 * what we want; every other stream is refused with port 0 in its place (§6: same number and order of m= lines).
 */
export function answerOffer(offer: SessionDescription, local: LocalAudio): { answer: SessionDescription; negotiated: NegotiatedAudio } {
  const { index, crypto } = chooseStream(offer, local);
  const offered = offer.media[index]!;
  const codecFormat = offered.formats.find((f) => {
    const codec = codecOf(offered, f);
    return codec !== undefined && local.codecs.includes(codec);
  });
  if (codecFormat === undefined) throw new MediaError('NO_COMMON_CODEC', `none of the offered formats (${offered.formats.join(' ')}) is PCMU or PCMA`);
  const codec = codecOf(offered, codecFormat)!;
  const dtmfPt = dtmfOf(offered);
  const remoteDirection = heldByAddress(directionOf(offer, offered), offer, offered);
  const want = flags(local.direction);
  const allowed = flags(reverseDirection(remoteDirection));
  const direction = fromFlags(want.send && allowed.send, want.recv && allowed.recv);
  const media = offer.media.map((m, i): SdpMedia => {
    if (i === index) {
      const answered = audioMedia(local, [{ pt: Number(codecFormat), name: codec }], dtmfPt, direction, crypto ? offered.protocol : 'RTP/AVP');
      if (crypto) answered.crypto = [formatCrypto(crypto.answer)];
      return answered;
    }
    return { media: m.media, port: 0, protocol: m.protocol, formats: m.formats.slice(0, 1), rtpmap: new Map(), fmtp: new Map() };
  });
  const remote = remoteOf(offer, offered, local);
  const negotiated: NegotiatedAudio = {
    codec,
    payloadType: Number(codecFormat),
    send: flags(direction).send && remote !== undefined,
    receive: flags(direction).recv,
    remoteDirection,
    ptime: offered.ptime ?? 20,
  };
  if (remote) negotiated.remote = remote;
  if (dtmfPt !== undefined) negotiated.dtmfPayloadType = dtmfPt;
  if (crypto) negotiated.srtp = crypto.agreement;
  return { answer: session(local, media), negotiated };
}

/**
 * Apply the answer to our offer (RFC 3264 §7): the codec is the answerer's first format that we offered; with SRTP,
 * the answer's `a=crypto` picks one of our keys (RFC 4568 §7.1.3), and a plain answer is refused when SRTP is required.
 */
export function applyAnswer(answer: SessionDescription, local: LocalAudio): NegotiatedAudio {
  const index = answer.media.findIndex((m) => m.media === 'audio' && (isAvp(m) || (local.srtp !== undefined && isSavp(m))));
  const answered = answer.media[index];
  if (!answered) throw new MediaError('NO_COMMON_CODEC', `the answer has no ${local.srtp ? 'RTP/SAVP or ' : ''}RTP/AVP audio stream`);
  if (answered.port === 0) throw new MediaError(local.srtp?.policy === 'required' ? 'NO_COMMON_CRYPTO' : 'NO_COMMON_CODEC', 'the answer refused the audio stream (port 0)');
  let srtp: SdesAgreement | undefined;
  if (local.srtp?.offer && (answered.crypto?.length || isSavp(answered) || local.srtp.policy === 'required')) {
    srtp = acceptCryptoAnswer(local.srtp.offer, answered.crypto ?? []);
  }
  const codecFormat = answered.formats.find((f) => {
    const codec = codecOf(answered, f);
    return codec !== undefined && local.codecs.includes(codec);
  });
  if (codecFormat === undefined) throw new MediaError('NO_COMMON_CODEC', `the answer chose formats we did not offer (${answered.formats.join(' ')})`);
  const remoteDirection = heldByAddress(directionOf(answer, answered), answer, answered);
  const want = flags(local.direction);
  const allowed = flags(reverseDirection(remoteDirection));
  const remote = remoteOf(answer, answered, local);
  const negotiated: NegotiatedAudio = {
    codec: codecOf(answered, codecFormat)!,
    payloadType: Number(codecFormat),
    send: want.send && allowed.send && remote !== undefined,
    receive: want.recv && allowed.recv,
    remoteDirection,
    ptime: answered.ptime ?? 20,
  };
  if (remote) negotiated.remote = remote;
  const dtmfPt = dtmfOf(answered);
  if (dtmfPt !== undefined) negotiated.dtmfPayloadType = dtmfPt;
  if (srtp) negotiated.srtp = srtp;
  return negotiated;
}
