import type { CallDirection, CallEndCause, CallRedirect, HangupParty } from './phone-types.js';
import type { ProxyFailureReading, TraceSignature } from './signature-types.js';

/** How a call ended, in the words a history list uses. */
export type CallResult = 'in-progress' | 'answered' | 'answered-elsewhere' | 'forwarded' | 'missed' | 'rejected' | 'busy' | 'cancelled' | 'failed' | 'interrupted';

/** One SIP message of a call's trace, in the order it crossed our socket. */
export interface TraceMessage {
  seq: number;
  dir: 'in' | 'out';
  at: number;
  transport: string;
  local: string;
  remote: string;
  raw: string;
  /** The phone threw this message away, and why (SipTapEntry.refused): shown as such, never as part of the call. */
  refused?: string;
  /**
   * The seed 002 signatures this message carries, decoded (and checked when the phone holds verification keys).
   * Computed when the trace is read; the stored trace stays raw.
   */
  signatures?: TraceSignature[];
}

export interface CallLogEntry {
  id: string;
  accountId: string;
  direction: CallDirection;
  sipCallId: string;
  /** The other party as shown to the user, and the URI behind it. */
  remoteShown: string;
  remoteUri: string;
  remoteUser?: string;
  remoteAnonymous: boolean;
  /** What we dialled (outgoing) — the dial string before any rule rewrote it. */
  dialed?: string;
  /** What this phone really sent as From / To / Request-URI (outgoing), for support staff. */
  sentFrom?: string;
  sentTo?: string;
  sentRequestUri?: string;
  /** The redirections the call followed (a 3xx, then the INVITE to its Contact): where it was really sent after. */
  redirects?: CallRedirect[];
  anonymity?: string;
  /** Incoming (or the call the phone placed to forward it): forwarded to this URI, by a 302 or by the phone placing the call. */
  forwardedTo?: string;
  /** The address this call's SIP and media used (the temporary address, where one was used). */
  localAddress?: string;
  /** `address:port` of our SIP socket, and of the server or peer it talked to, over `transport`. */
  localSip?: string;
  remoteSip?: string;
  transport?: string;
  /** `address:port` of RTP on each side, and the codec, once media was negotiated. */
  localRtp?: string;
  remoteRtp?: string;
  codec?: string;
  /** Signalling over TLS or WSS: `TLSv1.3 TLS_AES_256_GCM_SHA384`, and the server's certificate fingerprint (issue 18). */
  signalingTls?: string;
  /** `srtp AES_CM_128_HMAC_SHA1_80` when the audio was SRTP, `none` when it was plain RTP. */
  mediaEncryption?: string;
  /** The port range the call's sockets were taken from (the leased range, where a lease gave one). */
  ports?: { min: number; max: number };
  lease?: string;
  startedAt: number;
  answeredAt?: number;
  endedAt?: number;
  durationMs?: number;
  status?: number;
  reason?: string;
  endedBy?: HangupParty;
  /** The phone ended the answered call by itself: no media from the far end, or its session expired. */
  endCause?: CallEndCause;
  result: CallResult;
}

export interface CallLogDetail extends CallLogEntry {
  messages: TraceMessage[];
  /** The signing proxy's failure counters, read when the call was shown, if the phone can read its admin view (SPEC E). */
  signingProxy?: ProxyFailureReading;
}

export interface CallLogFilter {
  /** Matches the remote user, number or URI (substring). */
  number?: string;
  sipCallId?: string;
  since?: number;
  until?: number;
  /** One result, or any of several. */
  result?: CallResult | CallResult[];
  /** Final SIP status of the INVITE. */
  status?: number;
  direction?: CallDirection;
  anonymous?: boolean;
  accountId?: string;
  limit?: number;
  /** Paging cursor: the `startedAt`/`id` of the last row of the previous page. */
  before?: { startedAt: number; id: string };
}

export interface CallLogPage {
  calls: CallLogEntry[];
  /** Cursor for the next page, absent on the last one. */
  next?: { startedAt: number; id: string };
}

/** How long the call log keeps calls; both limits may apply. Calls still in progress are never removed. */
export interface RetentionPolicy {
  /** Remove calls that started more than this many days ago. */
  maxAgeDays?: number;
  /** Keep only this many of the newest calls. */
  maxCalls?: number;
}

export type CallLogExportFormat = 'json' | 'pcap';

/** An exported file as PhoneApi hands it to a UI (which saves it): the JSON text, or the pcap bytes in base64. */
export interface CallLogFile {
  fileName: string;
  mimeType: string;
  encoding: 'utf8' | 'base64';
  data: string;
  calls: number;
  messages: number;
}
