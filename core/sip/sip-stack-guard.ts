import { setTimerFaultHandler } from 'sip.js/lib/veilphone-fault-guard.js';
import { addressTag, parseSipMessage, viaBranch } from './message/index.js';

/** Where sip.js threw: in one of its own timers, taking a message our transport delivered, or told of a connection change. */
export type SipStackFaultSite = 'timer' | 'message' | 'transport';

/** A call the guard can end when the SIP stack fails inside it (SipCall). */
export interface FaultableCall {
  readonly callId: string;
  readonly session: unknown;
  /**
   * Its own tag, and the other end's once a dialog exists: a message is the call's only when it carries them. While an
   * incoming call rings, also its INVITE's From tag and branch, which name it in a CANCEL.
   */
  readonly tags?: { local: string | undefined; remote: string | undefined; invite?: { fromTag: string; branch: string } | undefined };
  endAfterFault(reason: string): void;
}

/** A message sip.js failed on, as the guard matches it to a call: its Call-ID and the tags of its From and To. */
export interface FaultyMessage {
  callId: string;
  tags: string[];
  /** A request's From tag and top Via branch (a CANCEL's name for the INVITE it cancels). */
  fromTag?: string | undefined;
  branch?: string | undefined;
}

/** What the guard knows about faults so far, process-wide. */
export interface SipStackFaultCounts {
  total: number;
  bySite: Record<SipStackFaultSite, number>;
  /** Faults by their message (at most `distinctLimit` distinct messages are kept; the rest count under "other"). */
  byMessage: Record<string, number>;
  /** Calls ended because of a fault. */
  callsEnded: number;
}

const distinctLimit = 50;

/**
 * Issue 19 item 1: an exception thrown inside sip.js from one of its timers (the npm install step
 * tools/postinstall/sipjs-fault-guard.js routes them all here) or while it takes a message from our transport must
 * not end a phone, a `serve` or a `run`. It is caught at that boundary, logged once (the first time its message is
 * seen, with its stack), counted, and the call it belongs to (by the object that set the timer, or the message's
 * Call-ID) is ended as cleanly as its state allows.
 */
class SipStackGuard {
  private readonly calls = new Map<string, Set<FaultableCall>>();
  private readonly counts: SipStackFaultCounts = { total: 0, bySite: { timer: 0, message: 0, transport: 0 }, byMessage: {}, callsEnded: 0 };
  private readonly listeners = new Set<(fault: { site: SipStackFaultSite; message: string; callId?: string }) => void>();

  /** Follow a call so a fault inside it can end it; returns the function that stops following it. */
  track(call: FaultableCall): () => void {
    let set = this.calls.get(call.callId);
    if (!set) this.calls.set(call.callId, (set = new Set()));
    set.add(call);
    return () => {
      set.delete(call);
      if (set.size === 0 && this.calls.get(call.callId) === set) this.calls.delete(call.callId);
    };
  }

  /** Told of every fault (an identity counts it, a phone reports it). */
  onFault(listener: (fault: { site: SipStackFaultSite; message: string; callId?: string }) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A fault caught at a boundary: `owner` is the sip.js object whose timer threw, or the delivered message's Call-ID. */
  report(error: unknown, site: SipStackFaultSite, owner: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    const counts = this.counts;
    counts.total++;
    counts.bySite[site]++;
    const key = message in counts.byMessage || Object.keys(counts.byMessage).length < distinctLimit ? message : 'other';
    const first = counts.byMessage[key] === undefined;
    counts.byMessage[key] = (counts.byMessage[key] ?? 0) + 1;
    const callId = callIdOf(owner);
    if (first) {
      const what = { timer: `a sip.js timer of ${ownerName(owner)}`, message: 'sip.js taking a message', transport: 'sip.js told of a connection change' }[site];
      const where = `${what}${callId !== undefined ? ` (Call-ID ${callId})` : ''}`;
      console.error(`veilphone: SIP stack fault in ${where}, caught (logged once per message; the call it belongs to, if any, is ended): ${error instanceof Error && error.stack ? error.stack : message}`);
    }
    for (const listener of this.listeners) {
      try {
        listener({ site, message, ...(callId !== undefined ? { callId } : {}) });
      } catch {
        // a listener's own failure must not turn a caught fault into an uncaught one
      }
    }
    for (const call of this.callsOf(owner, callId)) {
      counts.callsEnded++;
      call.endAfterFault(`SIP stack fault: ${message}`);
    }
  }

  snapshot(): SipStackFaultCounts {
    return { ...this.counts, bySite: { ...this.counts.bySite }, byMessage: { ...this.counts.byMessage } };
  }

  /**
   * The calls a fault belongs to: the one whose session or dialog set the timer, else every call of its Call-ID. For a
   * message, only a call whose own tag it carries (and the other end's, once the call has a dialog): anyone can send a
   * message with a Call-ID they learnt, so the Call-ID alone would let them end the call with one sip.js fails on.
   */
  private callsOf(owner: unknown, callId: string | undefined): FaultableCall[] {
    if (callId === undefined) return [];
    const candidates = [...(this.calls.get(callId) ?? [])];
    if (isFaultyMessage(owner)) {
      return candidates.filter(({ tags }) =>
        (tags?.local !== undefined && owner.tags.includes(tags.local) && (tags.remote === undefined || owner.tags.includes(tags.remote))) ||
        // an unanswered incoming call: what sip.js itself matches a CANCEL by (RFC 3261 §9.2)
        (tags?.invite !== undefined && owner.fromTag === tags.invite.fromTag && owner.branch === tags.invite.branch));
    }
    const exact = candidates.filter((call) => call.session === owner || (call.session as { dialog?: unknown }).dialog === owner);
    return exact.length > 0 ? exact : candidates;
  }
}

/** The Call-ID of a sip.js transaction, dialog, session or registerer (or a bare `{ callId }`). */
function callIdOf(owner: unknown): string | undefined {
  if (typeof owner === 'string') return owner || undefined;
  if (typeof owner !== 'object' || owner === null) return undefined;
  const candidate = owner as { callId?: unknown; request?: { callId?: unknown } };
  try {
    const id = candidate.request?.callId ?? candidate.callId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined; // a getter of a half-built object
  }
}

function isFaultyMessage(owner: unknown): owner is FaultyMessage {
  return typeof owner === 'object' && owner !== null && Array.isArray((owner as FaultyMessage).tags) && typeof (owner as FaultyMessage).callId === 'string';
}

/** A message as sip.js is handed it (our codec wrote it), as the guard matches it to a call (none, if it does not read). */
export function faultyMessage(raw: string): FaultyMessage {
  try {
    const message = parseSipMessage(raw);
    const tags = [addressTag(message.get('from') ?? ''), addressTag(message.get('to') ?? '')].filter((tag): tag is string => tag !== undefined);
    const via = message.kind === 'request' ? message.topVia : undefined;
    return { callId: message.callId, tags, fromTag: addressTag(message.get('from') ?? ''), branch: via ? viaBranch(via) : undefined };
  } catch {
    return { callId: messageCallId(raw) ?? '', tags: [] };
  }
}

/** The Call-ID of a message as sip.js is handed it (one `Call-ID:` line; the compact `i:` too). */
export function messageCallId(raw: string): string | undefined {
  const end = raw.indexOf('\r\n\r\n');
  const head = end >= 0 ? raw.slice(0, end) : raw;
  return /^(?:call-id|i)[ \t]*:[ \t]*(\S+)/im.exec(head)?.[1];
}

/** The owner's class; the compiled bundle names a class that refers to itself `_Name` (tools/cli-bundle), shown as `Name`. */
function ownerName(owner: unknown): string {
  return typeof owner === 'object' && owner !== null ? owner.constructor.name.replace(/^_(?=[A-Z])/, '') : 'sip.js';
}

/** The process's one guard: sip.js's timers report to it from the moment this module is loaded. */
export const sipStackGuard = new SipStackGuard();
setTimerFaultHandler((error, owner) => sipStackGuard.report(error, 'timer', owner));
