/**
 * The four signatures of seed 002 (¶[0006]-[0009]): over the Via set below the signer's Via, over the Record-Route
 * URIs, and over the route set the callee (¶[0033]) or the caller (¶[0042]) will use in its in-dialog requests.
 */
export type SignatureKind = 'via' | 'record-route' | 'route-set-callee' | 'route-set-caller';

/**
 * What a check concluded: `valid` (the MAC matches), `invalid` (it does not, or the parameter is malformed),
 * `unknown-key` (no key with that id), `expired` (the key's verification window or a sealed key's lifetime is
 * over, seed 002 ¶[0060], ¶[0068]), `missing` (a signature that had to be there is not, ¶[0031], ¶[0080]).
 */
export type SignatureVerdict = 'valid' | 'invalid' | 'unknown-key' | 'expired' | 'missing';

/** One item a signature covers, in the order the MAC takes it (docs/signing.md). */
export interface CoveredItem {
  /** `Via`, `Record-Route`, `Route`, `Remote-Target`, `Call-ID`, `From-Tag`, `Caller-Tag`, `To-URI`, `CSeq`, `Peer`, `Flag`. */
  item: string;
  /** The canonical form that went into the MAC. */
  value: string;
}

/** A signature found in one SIP message, decoded, and — when the reader holds the key — checked. */
export interface TraceSignature {
  kind: SignatureKind;
  /** The header that carries it and how: a header parameter of Via/Record-Route or a URI parameter of Record-Route/Route. */
  header: 'Via' | 'Record-Route' | 'Route';
  placement: 'header-param' | 'uri-param';
  /** Position of that header element among its kind in the message (0 = topmost). */
  index: number;
  version: number;
  keyId: string;
  /** `hs128`: HMAC-SHA256 truncated to 128 bits. */
  algorithm: string;
  /** The MAC as carried (base64url). */
  mac: string;
  covers: CoveredItem[];
  /** A pool member's session key carried sealed in the same header (¶[0061]-[0068]): what its clear part says. */
  sealedKey?: { suite: string; keyId: string; createdAt: number };
  /** Absent when the reader holds no verification keys, or when this copy cannot be checked (see `note`). */
  verdict?: SignatureVerdict;
  /** Why the verdict is what it is, or why there is none. */
  note?: string;
}

/**
 * The signing proxy's failure counters (seed 002 ¶[0026]; SPEC E), as its operator's view shows them and the
 * diagnostics pane repeats them when the phone can read that view: messages dropped for a signature that did not hold.
 */
export interface ProxyFailureCounters {
  total: number;
  /** By key family: via, record-route, route-set. */
  byFamily: Record<string, number>;
  byVerdict: Partial<Record<SignatureVerdict, number>>;
  /** Failures in the last second, against the threshold that raises an alert. */
  perSecond: number;
  peakPerSecond: number;
  threshold: number;
  /** True while the rate stays above the threshold. */
  alerting: boolean;
  /** Each crossing of the threshold, with the failure that crossed it. */
  alerts: Array<{ at: number; perSecond: number; threshold: number; last: { family: string; verdict: SignatureVerdict; message: string } }>;
}

/** What the diagnostics pane shows about the signing proxy: its counters as read now, or why they could not be read. */
export type ProxyFailureReading = { counters: ProxyFailureCounters; readAt: number; from: string } | { problem: string; from: string };
