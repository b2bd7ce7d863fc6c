import type { PhoneEventErrorCode } from './phone-error.js';
/** SIP transports a user can pick for an account; TLS and WSS encrypt the hop to the server (issue 18). */
export type TransportKind = 'udp' | 'tcp' | 'ws' | 'tls' | 'wss';

/**
 * How a TLS or WSS account trusts its server (RFC 5922 §7). Default: the system's CA store, with the server's name
 * (the host of `server`, sent as SNI) checked against the certificate.
 */
export interface AccountTlsConfig {
  /** Trust the CAs in this PEM file instead of the system's store. */
  caFile?: string;
  /**
   * Trust exactly the certificate with this SHA-256 fingerprint (`AB:CD:…`), whoever signed it and whatever names it
   * carries: a lab's self-signed certificate, a server the user checked by other means.
   */
  fingerprint?: string;
  /** The name the certificate must carry when the server is given by address (default: the host of `server`). */
  serverName?: string;
}

/** Whether calls' audio is SRTP (RFC 3711 with RFC 4568 keys). */
export type MediaEncryptionSetting = 'required' | 'preferred' | 'off';

/** What the phone does with an incoming call by itself. */
export type AnswerMode = { kind: 'manual' } | { kind: 'auto'; delayMs?: number } | { kind: 'reject'; status: number };

export interface AccountConfig {
  /** Stable local id (the scenario's agent name, or a generated id in the app). */
  id: string;
  /** User part of the address-of-record. */
  user: string;
  displayName?: string;
  /** Host part of the address-of-record, `host[:port]`. Defaults to the server's host:port. */
  domain?: string;
  /** Registrar and outbound proxy: `sip:127.0.0.1:5060` (the transport comes from `transport`). */
  server: string;
  /**
   * Where to go when `server` does not answer (seed 003: the secondary soft switch); back to `server` once it answers
   * again.
   */
  backupServers?: string[];
  /**
   * OPTIONS keep-alives to the server; a server silent for `timeoutMs` is failed over from. On a backup, the first
   * server is asked again every `primaryRetryMs` (default 30 s), and the account goes back once it answers.
   */
  keepalive?: { intervalMs: number; timeoutMs: number; primaryRetryMs?: number };
  transport: TransportKind;
  /** TLS and WSS: how the server's certificate is checked. */
  tls?: AccountTlsConfig;
  /**
   * SRTP with SDES keys (issue 18): `required` (the default over TLS and WSS) fails a call that cannot be encrypted
   * with 488 and the reason; `preferred` takes plain RTP when the peer has no SRTP; `off` (the default otherwise)
   * never encrypts. The keys travel in the SDP, so only an account on TLS or WSS may turn it on.
   */
  mediaEncryption?: MediaEncryptionSetting;
  /**
   * Symmetric RTP latching (RFC 4961; RFC 7362 §4): `on` follows a peer's RTP to the source it really comes from when
   * that is not what its SDP names (a peer behind a NAT no server fixed); `off` takes RTP only from the SDP's address,
   * for untrusted networks where a stranger sending first could take the call's audio (docs/addresses.md). Default:
   * the media provider's (the phone's hosts latch).
   */
  latching?: 'on' | 'off';
  /**
   * End an answered call when nothing (no RTP, no RTCP) has come from the far end for `seconds` (default 30, as
   * Linphone's nortp-timeout), or for `heldSeconds` while either side holds it (default 3600); 0 turns one off.
   */
  mediaTimeout?: { seconds?: number; heldSeconds?: number };
  /**
   * Ask for a session timer (RFC 4028 §7.1) of this many seconds in our INVITEs: the dialog is refreshed by re-INVITE,
   * and a call whose refresh fails ends, at both ends and at proxies keeping dialog state. Absent or 0: ask for none
   * (as Linphone and baresip; pjsip's phones such as MicroSIP ask for 1800). Raised to our Min-SE (90 s) when below it.
   */
  sessionExpires?: number;
  authUser?: string;
  password?: string;
  /** Requested registration lifetime in seconds. */
  registerExpires?: number;
  answer?: AnswerMode;
  /** Local address to bind (default 127.0.0.1 for a loopback server, otherwise the OS choice). */
  localAddress?: string;
  /** Withhold the caller's identity by default, and how (SPEC A). Default: present it. */
  anonymity?: AnonymityDefault;
  /** Dial prefixes that change presentation; default 184 withholds, 186 presents. */
  dialRules?: DialRule[];
  /** Fixed signalling address (default) or a one-time address per call (SPEC B, seed 000 Embodiment 6). */
  address?: AddressConfig;
  /**
   * Take calls (and any other request outside a dialog) straight from anyone who knows the Contact, as MicroSIP and
   * Linphone do. Off by default: only the account's servers may ring the phone; a stranger gets 403 (issue 17 item 5).
   */
  directCalls?: boolean;
  /** Do not disturb: every incoming call is refused with this status (logged, never ringing) while it is set. */
  doNotDisturb?: { status: 486 | 603 };
  /** Call forwarding: incoming calls are sent on to another number (RFC 3261 §21.3.3, 302 Moved Temporarily). */
  forward?: CallForwarding;
  /**
   * A household terminal of a room (seed 001 Fig. 8): the phone asks the room's gateway for its address and number
   * (docs/household.md) and registers that number there; `user`, `server`, `domain` and `localAddress` come from the
   * allocation (given empty, they are filled in).
   */
  household?: HouseholdAccount;
}

/** Which room's gateway a household terminal asks for its address and number (seed 001 units 24-25). */
export interface HouseholdAccount {
  /** The gateway's allocation service `ADDRESS:PORT` (a lab's room), or the network interface on the room's link. */
  gateway: string;
  /** The room, `area-building-room` (¶[55]): the allocation must be of this room. */
  room: string;
}

/** What the status bar shows of a household terminal (seed 001 ¶[55]-[57]): its number, address and gateway. */
export interface HouseholdTerminalStatus {
  accountId: string;
  room: string;
  number: string;
  address: string;
  /** The room gateway's SIP address `address:port` (the terminal's registrar and relay). */
  gateway: string;
}

/**
 * When and where incoming calls are forwarded: `always`; `busy`, while another call of the phone is talking; or
 * `no-answer`, when a call has rung `afterMs` without being answered. The caller is told by a 302 whose Contact is
 * `to` (a number, user or SIP URI in the account's domain).
 */
export interface CallForwarding {
  when: 'always' | 'busy' | 'no-answer';
  to: string;
  /** `no-answer`: how long the call rings first (default 20 s). */
  afterMs?: number;
  /**
   * `redirect` (default): a 302. `call`: the phone calls `to` itself and, once it answers, hands the caller over by
   * REFER with Replaces (RFC 3515, RFC 3891); a caller without REFER in its Allow gets the 302 (docs/forwarding.md).
   */
  by?: 'redirect' | 'call';
}

/**
 * Where a one-time address comes from (seed 000 Fig. 28, "address acquisition method"): a random interface ID on a
 * prefix from a router advertisement, the interface's own prefix, or a configured one; or an address server — the
 * DHCP lease (IPv4 always needs one) or the embedded lab's loopback address server.
 */
export type AddressSourceKind = 'router-advertisement' | 'interface' | 'configured' | 'dhcp' | 'loopback';

export type AddressConfig =
  | { mode: 'fixed' }
  | {
      mode: 'temporary';
      source: AddressSourceKind;
      /** `configured`: the /64 to use, e.g. `2001:db8:1:2::/64`. */
      prefix?: string;
      /** The interface the addresses live on (router advertisement, interface, kernel applier). */
      interface?: string;
      /** `auto` (default): add addresses to the interface when permitted, else signalling-only. */
      applier?: 'auto' | 'kernel' | 'signaling-only';
      /** Duplicate address detection for kernel addresses (RFC 4429 optimistic by default). */
      dad?: 'optimistic' | 'full' | 'skip';
      /**
       * When no one-time address can be had (no router advertisement, no prefix): `none` (default) refuses the call —
       * privacy first; `fixed` places it from the fixed address and says so.
       */
      fallback?: 'none' | 'fixed';
      /**
       * `on-dial` (default): the sending address is obtained and registered when the user dials (Fig. 28 as drawn);
       * `ahead`: the next one is obtained and registered in the background, so dialling goes straight to the INVITE.
       */
      prepare?: 'on-dial' | 'ahead';
    };

/** What the status bar shows about an account's addresses. */
export interface AddressStatus {
  accountId: string;
  mode: 'fixed' | 'temporary';
  /** Temporary mode: kernel, loopback or signaling-only (undefined until the first address is taken). */
  applier?: string;
  /** Why that applier is on (e.g. no CAP_NET_ADMIN). */
  reason?: string;
  source?: string;
  active: Array<{ address: string; purpose: 'sending' | 'receiving' }>;
  /** Addresses given back whose removal from the interface failed: tried again, kept in the journal until gone. */
  leftOnInterface?: Array<{ address: string; purpose: 'sending' | 'receiving'; attempts: number; reason: string }>;
  /** The last time no one-time address could be had, and why. */
  problem?: string;
}

/**
 * How a call hides its caller (seed 000 Fig. 31): `prefix` keeps the 184 in the Request-URI for the network's
 * conversion server; `header` has the terminal send an anonymous From with Privacy and P-Preferred-Identity (the
 * "extended header", in its RFC 3323/3325 form); `none` presents the caller.
 */
export type AnonymityMode = 'none' | 'prefix' | 'header';

/** RFC 3323 §4.2: `id` hides the identity (RFC 3325); `full` also asks for `header` and `user` privacy. */
export type AnonymityLevel = 'id' | 'full';

export interface AnonymityDefault {
  /** Withhold on every call unless 186 is dialled. */
  anonymous: boolean;
  mode: Exclude<AnonymityMode, 'none'>;
  level: AnonymityLevel;
}

/** A dial prefix and what it does to presentation. */
export interface DialRule {
  prefix: string;
  action: 'withhold' | 'present';
  label: string;
}

export type RegistrationState = 'unregistered' | 'registering' | 'registered' | 'unregistering' | 'failed';

/**
 * Why the last REGISTER failed, in terms a user can act on: `credentials` (401/407, or 403, although the phone sent
 * its user name and password: a wrong password), `no-credentials` (the server asks for a password and the account has
 * none), `no-answer` (nothing came back: RFC 3261 §17.1.2.2 Timer F), `unreachable` (the address could not be reached:
 * a transport error, RFC 3261 §8.1.3.1, or every send refused), `rejected` (any other final answer; see `status`),
 * `no-binding` (a 2xx that holds no Contact of the phone's with an expiry: RFC 3261 §10.2.4).
 */
export type RegistrationCause = 'credentials' | 'no-credentials' | 'no-answer' | 'unreachable' | 'rejected' | 'no-binding';

export interface RegistrationSnapshot {
  accountId: string;
  state: RegistrationState;
  /** The Contact the registrar holds, while registered. */
  contact?: string;
  /** SIP status of the last REGISTER answer. */
  status?: number;
  reason?: string;
  /** With `failed`: why. */
  cause?: RegistrationCause;
  expiresAt?: number;
  /** The server (`address:port`) the account registers with now: the primary or its backup. */
  server?: string;
  /** Not registered: when the phone tries again by itself (ms since the epoch; registration-retry.ts). */
  retryAt?: number;
}

export type CallDirection = 'outgoing' | 'incoming';

export type CallState = 'calling' | 'ringing' | 'incoming' | 'established' | 'terminated';

export type HangupParty = 'local' | 'remote' | 'network';

export interface CallParty {
  /** What the user sees: a display name, the user part, or "Anonymous". */
  shown: string;
  uri: string;
  user?: string;
  display?: string;
  /** The network presented the caller as anonymous: no callback action is offered. */
  anonymous: boolean;
}

/** One redirection an outgoing call followed (RFC 3261 §8.1.3.4): the response, and where the next INVITE went. */
export interface CallRedirect {
  status: number;
  reason?: string;
  target: string;
}

/**
 * Why the phone ended an answered call by itself: `no-media`, nothing (no RTP, no RTCP) came from the far end for
 * `seconds` (AccountConfig.mediaTimeout); `session-expired`, its session timer ran out — no refresh came, or ours found
 * no dialog (RFC 4028 §10).
 */
export type CallEndCause = { kind: 'no-media'; seconds: number } | { kind: 'session-expired' };

export interface CallSnapshot {
  /** Our id for the call (stable across hosts and in the call log). */
  id: string;
  accountId: string;
  direction: CallDirection;
  state: CallState;
  remote: CallParty;
  /** The SIP Call-ID of the dialog. */
  sipCallId: string;
  /** Final SIP status of the INVITE (200 for an answered call, 486, 487 …). */
  status?: number;
  reason?: string;
  endedBy?: HangupParty;
  startedAt: number;
  answeredAt?: number;
  endedAt?: number;
  /** INVITE sent → 2xx received, for outgoing calls. */
  setupMs?: number;
  localHold: boolean;
  remoteHold: boolean;
  muted: boolean;
  /** `address:port` our SIP socket used for this call. */
  localSip?: string;
  /** The address this call presented (its one-time address in temporary mode). */
  localAddress?: string;
  /** The audio stream, once negotiated. */
  media?: CallMediaSnapshot;
  /**
   * Outgoing, before the answer: the far end's early media (a 183/180 with SDP) is playing, so the UI plays no local
   * ringback (RFC 3960 §3.2). Absent when the call rings without early media (local ringback) or is answered.
   */
  earlyMedia?: true;
  /** The transport of the call's signalling, and its TLS session when it has one. */
  signaling?: CallSignaling;
  /** Outgoing calls: how the caller was presented. */
  anonymity?: AnonymityMode;
  /** Outgoing calls sent on by a 3xx: every redirection followed, in order. */
  redirects?: CallRedirect[];
  /** A transfer this call is being moved by (RFC 3515), as the transferor or the transferee sees it. */
  transfer?: TransferStatus;
  /** This call was placed because the peer of that call (our id) asked for it by REFER. */
  transferredFrom?: string;
  /** This call took the place of that one (our id) by an INVITE with Replaces (RFC 3891): an attended transfer. */
  replaced?: string;
  /** Incoming: forwarded to this URI (302). */
  forwardedTo?: string;
  /** Why the phone itself ended this answered call, when it did: its far end or the path to it was gone. */
  endCause?: CallEndCause;
  /** Incoming: another phone answered this forked call first (RFC 3326 "Call completed elsewhere"); not a missed call. */
  answeredElsewhere?: boolean;
  /** Incoming at a household terminal (seed 001 ¶[57]-[58]): the caller dialled the whole room, or this terminal. */
  rang?: 'room' | 'terminal';
}

/** A transfer in progress or done (RFC 3515, RFC 5589). */
export interface TransferStatus {
  /** `transferor`: we sent the REFER; `transferee`: we received it and call the target. */
  role: 'transferor' | 'transferee';
  /** `requested`: REFER on its way; `trying`: accepted, the new call is under way; then `succeeded` or `failed`. */
  state: 'requested' | 'trying' | 'succeeded' | 'failed';
  /** Where the call goes (the Refer-To URI, without its headers). */
  target: string;
  /** Attended: the target's dialog with the transferor is replaced (RFC 3891). */
  attended: boolean;
  /** The REFER's failure status, or the last status the new call reached (the NOTIFY's message/sipfrag). */
  status?: number;
}

/** Where a transfer sends a call: a dial string or URI (blind), or another call of ours to replace (attended). */
export type TransferTarget = { to: string } | { replaces: string };

/** What a call's audio is doing: the UI's in-call details, the report's per-leg figures, the call log. */
export interface CallMediaSnapshot {
  codec?: string;
  localRtp: string;
  remoteRtp?: string;
  sending: boolean;
  receiving: boolean;
  packetsSent: number;
  packetsReceived: number;
  packetsLost: number;
  lossPercent: number;
  jitterMs: number;
  dtmfReceived: string;
  /** SRTP with its suite, or none (plain RTP). */
  encryption: { kind: 'srtp'; suite: string } | { kind: 'none' };
}

/** How a call's signalling reaches the next hop (the in-call lock, the call log, the scenario report). */
export interface CallSignaling {
  transport: TransportKind;
  /** TLS and WSS: the session, and the fingerprint of the server's certificate. */
  tls?: { version: string; cipher: string; peerFingerprint?: string };
}

export interface CallRequest {
  accountId?: string;
  /** A user, a number, a dial string like `184 0312345678`, or a full SIP URI. */
  target: string;
  /** This call's choice; `default` (or absent) leaves it to the dial string and the account. */
  anonymity?: AnonymityMode | 'default';
  anonymityLevel?: AnonymityLevel;
}

/**
 * Whether the phone still holds its lease (RFC 2131 §4.4.5): `renewing` after T1 (asking its server), `rebinding`
 * after T2 (asking any server), `lost` when it expired, was refused (NAK) or came back with other ports; calls are
 * then refused until the phone is restarted on a new lease.
 */
export type LeaseHealth = 'bound' | 'renewing' | 'rebinding' | 'lost';

/** The DHCP lease the phone runs on (seed 003), as the status bar shows it. */
export interface LeaseStatus {
  state: LeaseHealth;
  /** When the lease runs out (epoch ms), unless it is renewed first; absent when it never does. */
  expiresAt?: number;
  address: string;
  ports: { min: number; max: number };
  /** Ports the phone's sockets hold now, and how many the range has. */
  inUse: number;
  capacity: number;
  nat?: string;
}

export interface PhoneSnapshot {
  accounts: AccountConfig[];
  registrations: RegistrationSnapshot[];
  addresses: AddressStatus[];
  /** Present when the phone runs on a DHCP lease; absent when statically configured. */
  lease?: LeaseStatus;
  calls: CallSnapshot[];
  /** Which network the host gave the phone: the embedded lab, or a real server (the status bar says which). */
  network?: NetworkStatus;
  /** Accounts that are household terminals with their allocation (seed 001); absent when there are none. */
  household?: HouseholdTerminalStatus[];
}

/** The embedded lab running in the host, or an external SIP server (SPEC "The lab"). */
export interface NetworkStatus {
  kind: 'lab' | 'external';
  /** The lab's SIP servers, or the external server's URI. */
  servers: string[];
}

/** What the settings view edits; stored by the core in the data dir. Passwords never leave the core (masked). */
export interface PhoneSettings {
  accounts: AccountConfig[];
  /** `file`: saved in the data dir and loaded at the next start; `memory`: this run only (no data dir). */
  storage: 'file' | 'memory';
}

/** Shown instead of a stored password; sent back unchanged it means "keep the stored one". */
export const maskedPassword = '********';

export type PhoneEvent =
  | { type: 'registration'; registration: RegistrationSnapshot }
  | { type: 'call'; call: CallSnapshot }
  | { type: 'incoming'; call: CallSnapshot }
  | { type: 'dtmf'; callId: string; digit: string; durationMs: number }
  | { type: 'address'; address: AddressEvent }
  /** The lease changed state, or the ports in use changed (a call started or ended). */
  | { type: 'lease'; lease: LeaseStatus }
  /** A `sip:`/`tel:` link was opened: put this target into the dialer (the user decides whether to call). */
  | { type: 'dial-request'; target: string }
  | { type: 'error'; code: PhoneEventErrorCode; message: string };

/** A one-time address taken or given back (the status bar; the scenario report's address history). */
export interface AddressEvent {
  accountId: string;
  purpose: 'sending' | 'receiving';
  address: string;
  state: 'in-use' | 'released';
  /** kernel, loopback or signaling-only. */
  applier: string;
  at: number;
}
