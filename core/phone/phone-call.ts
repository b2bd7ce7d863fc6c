import { randomUUID } from 'node:crypto';
import type { AnonymityLevel, AnonymityMode, CallMediaSnapshot, CallParty, CallSignaling, CallSnapshot, TransferStatus } from '../api/phone-types.js';
import type { MediaSession, MediaStats } from '../media/media-session.js';
import { PlainRtpSessionDescriptionHandler } from '../media/plain-rtp-sdh.js';
import type { SipCall } from '../sip/sip-call.js';
import type { SipIdentity } from '../sip/sip-identity.js';
import { shownName, shownReason } from '../privacy/shown-name.js';
import type { WireSetupTime } from './wire-setup-time.js';

/** One call as the phone tracks it: the SIP dialog plus what the user sees and did (mute, hold). */
export class PhoneCall {
  readonly id = randomUUID();
  muted = false;
  remoteHold = false;
  /** Outgoing: how this call presented its caller. */
  anonymity?: AnonymityMode;
  /** With `anonymity`: the RFC 3323 level its Privacy asked for (a transfer's new call asks for the same). */
  anonymityLevel?: AnonymityLevel;
  /** The address this call presented: its one-time address in temporary mode. */
  localAddress?: string;
  /** Incoming at a household terminal: the caller dialled the whole room or this terminal (seed 001 ¶[57]-[58]). */
  rang?: 'room' | 'terminal';
  /** The call's signalling transport and TLS session (set when the call is tracked). */
  signaling?: CallSignaling;
  /** Outgoing: From, To and Request-URI exactly as sent. */
  sent?: { from: string; to: string; requestUri: string };
  /** A transfer this call is being moved by. */
  transfer?: TransferStatus;
  /** Placed on a REFER received in that call (our id). */
  transferredFrom?: string;
  /** Took the place of that call (our id) by Replaces. */
  replaced?: string;
  /** Incoming: sent on to this URI by a 302 (call forwarding). */
  forwardedTo?: string;
  /** Outgoing: INVITE out → 2xx in, stamped by the call's trace as the messages cross the socket. */
  wireSetup?: WireSetupTime;

  constructor(
    readonly accountId: string,
    readonly sip: SipCall,
    readonly remote: CallParty,
    /** `address:port` of the SIP socket this call uses. */
    readonly localSip: string,
    /** What the user dialled, for outgoing calls. */
    readonly dialed?: string,
  ) {}

  snapshot(): CallSnapshot {
    const sip = this.sip;
    const snapshot: CallSnapshot = {
      id: this.id,
      accountId: this.accountId,
      direction: sip.direction,
      state: sip.state,
      remote: this.remote,
      sipCallId: sip.callId,
      startedAt: sip.createdAt,
      localHold: sip.localHold,
      remoteHold: this.remoteHold,
      muted: this.muted,
      localSip: this.localSip,
    };
    if (sip.finalStatus !== undefined) snapshot.status = sip.finalStatus;
    if (sip.finalReason !== undefined) snapshot.reason = shownReason(sip.finalReason); // the network's words, shown
    if (sip.endedBy !== undefined && sip.state === 'terminated') snapshot.endedBy = sip.endedBy;
    if (sip.earlyMedia) snapshot.earlyMedia = true;
    if (sip.answeredAt !== undefined) snapshot.answeredAt = sip.answeredAt;
    if (sip.endedAt !== undefined) snapshot.endedAt = sip.endedAt;
    // INVITE out → 2xx in on the wire; the stack's stamps when the trace has not both (no trace router: unit fakes)
    const setupMs = this.wireSetup?.ms ?? (sip.inviteSentAt !== undefined && sip.answeredAt !== undefined ? sip.answeredAt - sip.inviteSentAt : undefined);
    if (setupMs !== undefined && sip.answeredAt !== undefined) snapshot.setupMs = setupMs;
    if (this.anonymity !== undefined) snapshot.anonymity = this.anonymity;
    if (sip.completedElsewhere) snapshot.answeredElsewhere = true;
    if (this.rang !== undefined) snapshot.rang = this.rang;
    if (this.localAddress !== undefined) snapshot.localAddress = this.localAddress;
    if (sip.redirects.length > 0) snapshot.redirects = sip.redirects.map((r) => ({ ...r, ...(r.reason !== undefined ? { reason: shownReason(r.reason) } : {}) }));
    if (this.transfer) snapshot.transfer = { ...this.transfer };
    if (this.transferredFrom !== undefined) snapshot.transferredFrom = this.transferredFrom;
    if (this.replaced !== undefined) snapshot.replaced = this.replaced;
    if (this.forwardedTo !== undefined) snapshot.forwardedTo = this.forwardedTo;
    if (sip.endCause) snapshot.endCause = { ...sip.endCause };
    const media = this.media?.stats() ?? this.finalMedia ?? this.closedMediaStats;
    if (media) snapshot.media = mediaSnapshot(media);
    if (this.signaling) snapshot.signaling = this.signaling;
    return snapshot;
  }

  /** The plain-RTP media session of this call, once sip.js has made its session description handler. */
  get media(): MediaSession | undefined {
    const handler = this.sip.sessionDescriptionHandler;
    return handler instanceof PlainRtpSessionDescriptionHandler ? handler.media : undefined;
  }

  /** The last media figures, kept when the call ends (the session and its sockets are gone by then). */
  finalMedia?: MediaStats;

  /** The figures the media had when sip.js closed it: an unanswered call ends after that (sip-call.ts, retarget). */
  private get closedMediaStats(): MediaStats | undefined {
    const handler = this.sip.sessionDescriptionHandler;
    return handler instanceof PlainRtpSessionDescriptionHandler ? handler.closedStats : undefined;
  }
}

function mediaSnapshot(stats: MediaStats): CallMediaSnapshot {
  const snapshot: CallMediaSnapshot = {
    localRtp: stats.localRtp,
    sending: stats.sending,
    receiving: stats.receiving,
    packetsSent: stats.packetsSent,
    packetsReceived: stats.packetsReceived,
    packetsLost: stats.packetsLost,
    lossPercent: stats.lossPercent,
    jitterMs: stats.jitterMs,
    dtmfReceived: stats.dtmfReceived,
    encryption: stats.encryption,
  };
  if (stats.codec !== undefined) snapshot.codec = stats.codec;
  if (stats.remoteRtp !== undefined) snapshot.remoteRtp = stats.remoteRtp;
  return snapshot;
}

/** What a call's signalling went over: the identity's transport, and its TLS session to the server (issue 18). */
export function signalingOf(identity: SipIdentity): CallSignaling {
  const tls = identity.tls;
  return {
    transport: identity.options.transport,
    ...(tls ? { tls: { version: tls.version, cipher: tls.cipher, ...(tls.peerFingerprint !== undefined ? { peerFingerprint: tls.peerFingerprint } : {}) } } : {}),
  };
}

/**
 * How a remote party is shown: display name, else user part, else the URI, each as privacy/shown-name.ts makes a name from
 * the network safe to show (a name left empty by that counts as none). The user part stays as it came: it is what a
 * callback dials.
 */
export function partyFrom(remote: { uri: string; user?: string; display?: string }, anonymous = false): CallParty {
  const display = remote.display !== undefined ? shownName(remote.display) || undefined : undefined;
  const user = remote.user !== undefined ? shownName(remote.user) || undefined : undefined;
  const party: CallParty = { shown: anonymous ? 'Anonymous' : (display ?? user ?? shownName(remote.uri, 256)), uri: remote.uri, anonymous };
  if (remote.user !== undefined) party.user = remote.user;
  if (display !== undefined) party.display = display;
  return party;
}
