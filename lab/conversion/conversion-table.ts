import { AnonymousPool } from './anonymous-pool.js';

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
  realCallId: string;
  convertedCallId: string;
  since: string;
  ending: boolean;
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
export class ConversionTable {
  private readonly byCallId = new Map<string, ConversionEntry>();
  readonly pool: AnonymousPool;
  private readonly sweeper: NodeJS.Timeout;

  private readonly maxIdleMs: number;
  private readonly lingerMs: number;

  constructor(options: { poolSize?: number; maxIdleMs?: number; lingerMs?: number } = {}) {
    this.maxIdleMs = options.maxIdleMs ?? 4 * 3600_000;
    this.lingerMs = options.lingerMs ?? 32_000;
    this.pool = new AnonymousPool(options.poolSize ?? 100);
    this.sweeper = setInterval(() => this.sweep(), Math.min(60_000, Math.max(1000, this.lingerMs / 2)));
    this.sweeper.unref();
  }

  /** Register a new converted dialog; throws POOL_EXHAUSTED when an anonymous name is needed and none is free. */
  add(entry: Omit<ConversionEntry, 'createdAt' | 'lastSeenAt' | 'anonymousUser' | 'erasedVias'>, needsName: boolean): ConversionEntry {
    let anonymousUser: string | undefined;
    if (needsName) {
      anonymousUser = this.pool.take();
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

  /** An INVITE that never made a dialog: nothing more can come that needs the entry. */
  drop(entry: ConversionEntry): void {
    this.remove(entry);
  }

  /** Operator lookup by anonymous name or either Call-ID. */
  identify(key: string): ConversionRecord | undefined {
    const entry = this.byCallId.get(key) ?? [...this.entries()].find((e) => e.anonymousUser?.toLowerCase() === key.toLowerCase());
    return entry ? record(entry) : undefined;
  }

  records(): ConversionRecord[] {
    return [...this.entries()].map(record);
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
  }

  private remove(entry: ConversionEntry): void {
    this.byCallId.delete(entry.realCallId);
    this.byCallId.delete(entry.convertedCallId);
    if (entry.anonymousUser) this.pool.give(entry.anonymousUser);
  }
}

function record(entry: ConversionEntry): ConversionRecord {
  return {
    ...(entry.anonymousUser ? { anonymousUser: entry.anonymousUser } : {}),
    realUser: entry.realUser,
    realCallId: entry.realCallId,
    convertedCallId: entry.convertedCallId,
    since: new Date(entry.createdAt).toISOString(),
    ending: entry.endsAt !== undefined,
  };
}
