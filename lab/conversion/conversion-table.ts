import { AnonymousPool } from './anonymous-pool.js';
import type { ConversionStep } from './conversion-server.js';

/** One converted dialog (seed 000 Fig. 13 table 170 and Fig. 14 table 180, joined per call). */
export interface ConversionEntry {
  /** The caller's Call-ID, and what the callee sees instead. */
  realCallId: string;
  convertedCallId: string;
  /** The caller's From tag: tells which side an in-dialog request comes from. */
  callerTag: string;
  /** CSeq of the INVITE that made the dialog: a failure answer to it ends the entry. */
  inviteSeq: number;
  /** The real caller: who the carrier can still identify (`user@domain`). */
  realUser: string;
  /** The caller's From and To header values without tags, as sent and as converted. */
  realFrom: string;
  anonymousFrom: string;
  realTo: string;
  convertedTo: string;
  /** The pool name lent to this call, when identity conversion is on. */
  anonymousUser?: string;
  /** What this server converts in this dialog (its placement and the call decide: Embodiment 4 splits the work). */
  steps: Set<ConversionStep>;
  /** Vias erased from each caller-side request, by its CSeq, to put back on the responses. */
  erasedVias: Map<string, string[]>;
  createdAt: number;
  lastSeenAt: number;
  /** When set, the entry goes at that time (the dialog ended; late retransmissions still convert until then). */
  endsAt?: number;
}

/** What the operator sees: the carrier can still tell who called (seed 000: "the callers can be managed"). */
export interface ConversionRecord {
  anonymousUser?: string;
  realUser: string;
  /** The From the callee was shown. */
  shownAs: string;
  realCallId: string;
  convertedCallId: string;
  since: string;
  ending: boolean;
  /** Set once the entry left the live tables (it is then only in the operator's recent history). */
  endedAt?: string;
}

export class ConversionTableError extends Error {
  override readonly name = 'ConversionTableError';
  constructor(
    readonly code: 'POOL_EXHAUSTED',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The conversion tables: Call-ID ↔ real user and AnonymousN ↔ real user, per dialog, found by either Call-ID. Entries
 * are freed when the dialog ends, after a linger for retransmissions, and by an idle backstop.
 */
/** Refused INVITEs whose names are kept for their caller's next try (the oldest go first past this). */
const maxRetried = 1000;

export class ConversionTable {
  private readonly byCallId = new Map<string, ConversionEntry>();
  /** Names of INVITEs refused (422, 3xx…) for the linger time, by Call-ID: the same call asking again gets its own back. */
  private readonly retried = new Map<string, { callerTag: string; anonymousUser: string; until: number }>();
  readonly pool: AnonymousPool;
  private readonly sweeper: NodeJS.Timeout;

  private readonly maxIdleMs: number;
  private readonly lingerMs: number;

  /**
   * Ended dialogs, newest last, for the operator: a callee complains after the call, so the carrier must still tell
   * who was behind the Call-ID it was shown (seed 000: "the callers can be managed by … a communications carrier").
   */
  private readonly ended: ConversionRecord[] = [];
  private readonly historySize: number;

  constructor(options: { poolSize?: number; maxIdleMs?: number; lingerMs?: number; historySize?: number } = {}) {
    this.maxIdleMs = options.maxIdleMs ?? 4 * 3600_000;
    this.lingerMs = options.lingerMs ?? 32_000;
    this.historySize = options.historySize ?? 1000;
    this.pool = new AnonymousPool(options.poolSize ?? 100);
    this.sweeper = setInterval(() => this.sweep(), Math.min(60_000, Math.max(1000, this.lingerMs / 2)));
    this.sweeper.unref();
  }

  /** Register a new converted dialog; throws POOL_EXHAUSTED when an anonymous name is needed and none is free. */
  add(entry: Omit<ConversionEntry, 'createdAt' | 'lastSeenAt' | 'anonymousUser' | 'erasedVias'>, needsName: boolean): ConversionEntry {
    // The same Call-ID again (an INVITE re-sent with credentials after a 407): the new request replaces the old.
    const previous = this.byCallId.get(entry.realCallId);
    if (previous) this.remove(previous, false);
    // The same call asking again — the same Call-ID and From tag after a 407, a 422 or a 3xx (RFC 3261 §8.1.3.5) —
    // keeps its name: the callee, or the next target, sees one caller, not two names for one Call-ID.
    const retried = this.retried.get(entry.realCallId);
    this.retried.delete(entry.realCallId);
    const prior = previous ?? (retried && retried.until > Date.now() ? retried : undefined);
    const sameName = prior?.anonymousUser !== undefined && prior.callerTag === entry.callerTag ? prior.anonymousUser : undefined;
    let anonymousUser: string | undefined;
    if (needsName) {
      anonymousUser = sameName !== undefined && this.pool.takeName(sameName) ? sameName : this.pool.take();
      if (anonymousUser === undefined) throw new ConversionTableError('POOL_EXHAUSTED', `all ${this.pool.size} anonymous identities are in use`);
    }
    const now = Date.now();
    const full: ConversionEntry = { ...entry, erasedVias: new Map(), createdAt: now, lastSeenAt: now, ...(anonymousUser ? { anonymousUser } : {}) };
    this.byCallId.set(full.realCallId, full);
    this.byCallId.set(full.convertedCallId, full);
    return full;
  }

  find(callId: string): ConversionEntry | undefined {
    const entry = this.byCallId.get(callId);
    if (entry && this.expired(entry, Date.now())) {
      this.remove(entry);
      return undefined;
    }
    if (entry) entry.lastSeenAt = Date.now();
    return entry;
  }

  /** The dialog ended: keep converting its late retransmissions for a while, then forget it. */
  end(entry: ConversionEntry): void {
    entry.endsAt ??= Date.now() + this.lingerMs;
  }

  /**
   * An INVITE that never made a dialog: nothing more can come that needs the entry. Its caller may ask again with the
   * same Call-ID and From tag (after a 422 or a 3xx), within the linger time: that INVITE gets the same name back.
   */
  drop(entry: ConversionEntry): void {
    if (this.byCallId.get(entry.realCallId) === entry && entry.anonymousUser !== undefined) {
      this.retried.set(entry.realCallId, { callerTag: entry.callerTag, anonymousUser: entry.anonymousUser, until: Date.now() + this.lingerMs });
      if (this.retried.size > maxRetried) this.retried.delete(this.retried.keys().next().value!);
    }
    this.remove(entry);
  }

  /**
   * Operator lookup by anonymous name or either Call-ID: the live dialog first, else the latest ended one (an
   * AnonymousN is lent again after its dialog ends, so after the fact the Call-ID is the sure key).
   */
  identify(key: string): ConversionRecord | undefined {
    const lower = key.toLowerCase();
    const entry = this.byCallId.get(key) ?? [...this.entries()].find((e) => e.anonymousUser?.toLowerCase() === lower);
    if (entry) return record(entry);
    return this.ended.findLast((r) => r.realCallId === key || r.convertedCallId === key || r.anonymousUser?.toLowerCase() === lower);
  }

  records(): ConversionRecord[] {
    return [...this.entries()].map(record);
  }

  /** Ended dialogs still kept for the operator, oldest first. */
  history(): ConversionRecord[] {
    return [...this.ended];
  }

  get size(): number {
    return this.entries().size;
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private entries(): Set<ConversionEntry> {
    return new Set(this.byCallId.values());
  }

  private expired(entry: ConversionEntry, now: number): boolean {
    return (entry.endsAt !== undefined && entry.endsAt <= now) || now - entry.lastSeenAt > this.maxIdleMs;
  }

  private sweep(): void {
    const now = Date.now();
    for (const entry of this.entries()) if (this.expired(entry, now)) this.remove(entry);
    for (const [callId, retried] of this.retried) if (retried.until <= now) this.retried.delete(callId);
  }

  private remove(entry: ConversionEntry, keep = true): void {
    if (this.byCallId.get(entry.realCallId) !== entry) return;
    this.byCallId.delete(entry.realCallId);
    this.byCallId.delete(entry.convertedCallId);
    if (entry.anonymousUser) this.pool.give(entry.anonymousUser);
    if (keep && this.historySize > 0) {
      this.ended.push({ ...record(entry), ending: true, endedAt: new Date().toISOString() });
      if (this.ended.length > this.historySize) this.ended.splice(0, this.ended.length - this.historySize);
    }
  }
}

function record(entry: ConversionEntry): ConversionRecord {
  return {
    ...(entry.anonymousUser ? { anonymousUser: entry.anonymousUser } : {}),
    realUser: entry.realUser,
    shownAs: entry.anonymousFrom,
    realCallId: entry.realCallId,
    convertedCallId: entry.convertedCallId,
    since: new Date(entry.createdAt).toISOString(),
    ending: entry.endsAt !== undefined,
  };
}
