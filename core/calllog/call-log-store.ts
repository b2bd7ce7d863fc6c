import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { CallLogDetail, CallLogEntry, CallLogFilter, CallLogPage, CallResult, RetentionPolicy, TraceMessage } from '../api/call-log-types.js';
import type { SipTapEntry } from '../sip/transport/message-tap.js';
import { buildCallQuery, indexableSearch, indexedSearchLimit, searchPhrase } from './call-log-query.js';
import { CallLogSchemaError, migrateCallLog } from './migrate.js';
import { checkRetention, pruneCalls, RetentionError } from './retention.js';
import { ContactBook } from './contact-book.js';
import { redactTraceEntry } from './trace-redaction.js';
import { cleanedNetworkWords } from './network-words.js';
import { readStoredJson } from './stored-json.js';
import { createPrivateDir, openPrivateFile, privateFileMode, restrictMode } from '../files/private-files.js';

export class CallLogError extends Error {
  override readonly name = 'CallLogError';
  constructor(
    readonly code: 'OPEN_FAILED' | 'NEWER_SCHEMA' | 'MIGRATION_FAILED' | 'UNKNOWN_CALL' | 'WRITE_FAILED' | 'INVALID_RETENTION',
    message: string,
  ) {
    super(message);
  }
}

/** What is known when a call starts. */
export type CallStart = Pick<CallLogEntry, 'id' | 'accountId' | 'direction' | 'sipCallId' | 'remoteShown' | 'remoteUri' | 'remoteAnonymous' | 'startedAt'> &
  Partial<
    Pick<
      CallLogEntry,
      'remoteUser' | 'dialed' | 'sentFrom' | 'sentTo' | 'sentRequestUri' | 'redirects' | 'anonymity' | 'localAddress' | 'localSip' | 'remoteSip' | 'transport' | 'localRtp' | 'remoteRtp' | 'codec' | 'signalingTls' | 'mediaEncryption' | 'ports' | 'lease'
    >
  >;

export type CallUpdate = Partial<Omit<CallLogEntry, 'id' | 'direction' | 'durationMs'>>;

export interface CallLogStoreOptions {
  /** Use this policy instead of the one saved in the file (not saved; `setRetention` saves). */
  retention?: RetentionPolicy;
  /** How often the retention policy runs while the log is open (default hourly; 0 = only on open). */
  retentionIntervalMs?: number;
  /** Where failures of background work (the periodic retention run) go; default: stderr. */
  onError?: (error: CallLogError) => void;
  /**
   * Writes queued within this long of the last commit wait for the end of it and go in one commit (default 20 ms):
   * under load one commit gathers many turns' writes instead of one commit per turn; an idle log commits the turn after.
   */
  coalesceMs?: number;
}

const defaultCoalesceMs = 20;

const columns: Record<keyof CallUpdate | 'id' | 'direction', string> = {
  id: 'id',
  accountId: 'account_id',
  direction: 'direction',
  sipCallId: 'sip_call_id',
  remoteShown: 'remote_shown',
  remoteUri: 'remote_uri',
  remoteUser: 'remote_user',
  remoteAnonymous: 'remote_anonymous',
  dialed: 'dialed',
  sentFrom: 'sent_from',
  sentTo: 'sent_to',
  sentRequestUri: 'sent_request_uri',
  redirects: 'redirects',
  anonymity: 'anonymity',
  forwardedTo: 'forwarded_to',
  localAddress: 'local_address',
  localSip: 'local_sip',
  remoteSip: 'remote_sip',
  transport: 'transport',
  localRtp: 'local_rtp',
  remoteRtp: 'remote_rtp',
  codec: 'codec',
  signalingTls: 'signaling_tls',
  mediaEncryption: 'media_encryption',
  ports: 'ports',
  lease: 'lease',
  startedAt: 'started_at',
  answeredAt: 'answered_at',
  endedAt: 'ended_at',
  status: 'status',
  reason: 'reason',
  endedBy: 'ended_by',
  endCause: 'end_cause',
  result: 'result',
};

const hourMs = 3_600_000;
const retentionKey = 'retention';

/** A write waiting for the next flush, in the order it was asked. */
type PendingWrite =
  | { kind: 'start'; row: Record<string, unknown>; onFailed?: WriteFailed }
  | { kind: 'update'; id: string; row: Record<string, unknown>; onFailed?: WriteFailed }
  | { kind: 'message'; callId: string; entry: SipTapEntry };

/** Told when a queued write could not be made (the flush goes on with the others). */
export type WriteFailed = (error: CallLogError) => void;

/** Stores with writes that may still be queued: flushed when the process exits (process.exit included). */
const openStores = new Set<CallLogStore>();
let exitHookInstalled = false;

/**
 * The durable call log: SQLite in WAL mode (better-sqlite3). Writes (a call's row, its updates, its trace messages)
 * are queued and made in one transaction after the I/O callbacks of the turn they came in: the phone tells its
 * hosts first and the commit never sits on the signalling path. A log that committed less than `coalesceMs` ago waits
 * for the end of that time, so under load one commit takes many turns' writes. Once flushed (`flush()`, the commit
 * that follows, any read, `close()`, or the process exiting) a call row and every message survive a crash of the
 * process; a kill -9 loses at most the writes queued since the last commit (20 ms by default). Each call row names the process that writes it; on open, calls left
 * "in-progress" by a process that no longer runs are marked "interrupted" (a live phone sharing the file keeps its
 * calls). The retention policy runs on open and then periodically.
 */
export class CallLogStore {
  private pending: PendingWrite[] = [];
  private flushScheduled = false;
  private lastCommitAt = Number.NEGATIVE_INFINITY;
  /** Transactions committed for queued writes (diagnostics, and the tests of coalescing). */
  commits = 0;
  private readonly nextSeq = new Map<string, number>();
  private readonly insertMessage: Database.Statement;
  private readonly selectCall: Database.Statement;
  private readonly selectMessages: Database.Statement;
  private readonly statements = new Map<string, Database.Statement>();
  private retentionTimer?: NodeJS.Timeout;
  private closed = false;
  /** Messages that arrived for calls not (or no longer) in the log. */
  droppedMessages = 0;

  /** The address book kept in the same file (schema migration 4). */
  readonly contacts: ContactBook;

  private constructor(
    private readonly db: Database.Database,
    private readonly options: CallLogStoreOptions,
  ) {
    this.contacts = new ContactBook(db);
    // A message for a call the log no longer holds (removed by retention while its last packets lingered) is dropped
    // and counted, without failing the other messages of its batch.
    this.insertMessage = db.prepare(
      'INSERT INTO messages (call_id, seq, dir, at, transport, local, remote, raw, refused) SELECT @callId, @seq, @dir, @at, @transport, @local, @remote, @raw, @refused WHERE EXISTS (SELECT 1 FROM calls WHERE id = @callId)',
    );
    this.selectCall = db.prepare('SELECT * FROM calls WHERE id = ?');
    this.selectMessages = db.prepare('SELECT seq, dir, at, transport, local, remote, raw, refused FROM messages WHERE call_id = ? ORDER BY seq');
  }

  /** Open (or create, or upgrade) the log at `file`; `:memory:` for tests. */
  static open(file: string, options: CallLogStoreOptions = {}): CallLogStore {
    if (options.retention) checkOrThrow(options.retention);
    let db: Database.Database;
    try {
      if (file !== ':memory:') makeLogPrivate(file);
      db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL'); // WAL + NORMAL: durable across a process crash, not a power cut
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
    } catch (error) {
      throw new CallLogError('OPEN_FAILED', `cannot open the call log at ${file}: ${(error as Error).message}`);
    }
    try {
      migrateCallLog(db);
    } catch (error) {
      db.close();
      if (error instanceof CallLogSchemaError) throw new CallLogError(error.code, `${file}: ${error.message}`);
      throw new CallLogError('OPEN_FAILED', `cannot open the call log at ${file}: ${(error as Error).message}`);
    }
    const store = new CallLogStore(db, options);
    try {
      store.markInterrupted();
      store.applyRetention();
    } catch (error) {
      store.close();
      throw error instanceof CallLogError ? error : new CallLogError('WRITE_FAILED', `${file}: ${(error as Error).message}`);
    }
    openStores.add(store);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', flushOpenStores);
    }
    const every = options.retentionIntervalMs ?? hourMs;
    if (every > 0) {
      store.retentionTimer = setInterval(() => {
        try {
          store.applyRetention();
        } catch (error) {
          store.reportBackground(error);
        }
      }, every);
      store.retentionTimer.unref();
    }
    return store;
  }

  /** Queue the row of a call that starts (written this event-loop turn); `onFailed` hears if it could not be. */
  startCall(call: CallStart, onFailed?: WriteFailed): void {
    if (this.closed) return;
    this.enqueue({ kind: 'start', row: { ...toRow({ ...call, result: 'in-progress' }), owner_pid: process.pid }, ...(onFailed ? { onFailed } : {}) });
  }

  /** Queue a change of a call's row; a call the log does not hold fails with UNKNOWN_CALL, told to `onFailed`. */
  updateCall(id: string, update: CallUpdate, onFailed?: WriteFailed): void {
    const row = toRow(update);
    if (Object.keys(row).length === 0 || this.closed) return;
    this.enqueue({ kind: 'update', id, row, ...(onFailed ? { onFailed } : {}) });
  }

  private enqueue(write: PendingWrite): void {
    this.pending.push(write);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const run = (): void => {
      try {
        this.flush();
      } catch (error) {
        this.reportBackground(error);
      }
    };
    const wait = this.lastCommitAt + (this.options.coalesceMs ?? defaultCoalesceMs) - performance.now();
    if (wait > 0) setTimeout(run, wait);
    else setImmediate(run);
  }

  private writeRow(write: Exclude<PendingWrite, { kind: 'message' }>): void {
    const names = Object.keys(write.row);
    const values = names.map((n) => write.row[n]);
    if (write.kind === 'start') {
      this.statement(`INSERT INTO calls (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`).run(...values);
      return;
    }
    const result = this.statement(`UPDATE calls SET ${names.map((n) => `${n} = ?`).join(', ')} WHERE id = ?`).run(...values, write.id);
    if (result.changes === 0) throw new CallLogError('UNKNOWN_CALL', `no call ${write.id} in the log`);
  }

  /** Prepared statements by SQL text: the column sets a phone writes repeat, so each is prepared once. */
  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      if (this.statements.size < 256) this.statements.set(sql, statement);
    }
    return statement;
  }

  /** Queue one traced message for a call, its secrets masked (trace-redaction.ts); written within this event-loop turn. */
  appendMessage(callId: string, entry: SipTapEntry): void {
    if (this.closed) return;
    this.enqueue({ kind: 'message', callId, entry: redactTraceEntry(entry) });
  }

  /**
   * Write everything queued now, in one transaction. A write that fails (an update of a call the log does not hold)
   * is told to its `onFailed` (else reported like background work) and the others are committed all the same; a
   * failed commit throws WRITE_FAILED, and its writes are told too.
   */
  flush(): void {
    this.flushWrites(false);
  }

  /** `strict` (inside `batch`): the first failed write throws, so the whole batch rolls back. */
  private flushWrites(strict: boolean): void {
    this.flushScheduled = false;
    if (this.pending.length === 0 || this.closed) return;
    const batch = this.pending;
    this.pending = [];
    const failures: Array<{ write: PendingWrite; error: CallLogError }> = [];
    this.lastCommitAt = performance.now();
    this.commits++;
    const asLogError = (error: unknown): CallLogError => (error instanceof CallLogError ? error : new CallLogError('WRITE_FAILED', `call log write failed: ${(error as Error).message}`));
    try {
      this.db.transaction(() => {
        for (const write of batch) {
          if (write.kind !== 'message') {
            try {
              this.writeRow(write);
            } catch (error) {
              if (strict) throw error;
              failures.push({ write, error: asLogError(error) });
            }
            continue;
          }
          const { callId, entry } = write;
          const seq = this.seqFor(callId);
          const { changes } = this.insertMessage.run({ callId, seq, dir: entry.dir, at: entry.at, transport: entry.transport, local: entry.local, remote: entry.remote, raw: entry.raw, refused: entry.refused ?? null });
          if (changes === 0) {
            this.nextSeq.delete(callId);
            this.droppedMessages++;
          }
        }
      })();
    } catch (error) {
      this.nextSeq.clear(); // the rolled-back messages took numbers the file never got
      const failed = asLogError(error);
      for (const write of batch) if (write.kind !== 'message') write.onFailed?.(failed);
      throw failed;
    }
    for (const { write, error } of failures) {
      if (write.kind !== 'message' && write.onFailed) write.onFailed(error);
      else this.reportBackground(error);
    }
  }

  getCall(id: string): CallLogDetail | undefined {
    this.flush();
    const row = this.selectCall.get(id) as Row | undefined;
    if (!row) return undefined;
    // Masked again as read: a message written by an older Veilphone still running on this file since the upgrade.
    return { ...fromRow(row), messages: (this.selectMessages.all(id) as Array<TraceMessage & { refused: string | null }>).map(({ refused, ...message }) => redactTraceEntry(refused === null ? message : { ...message, refused })) };
  }

  /** Several calls with their traces, in the order asked; throws UNKNOWN_CALL for an id not in the log. */
  getCalls(ids: readonly string[]): CallLogDetail[] {
    return ids.map((id) => {
      const call = this.getCall(id);
      if (!call) throw new CallLogError('UNKNOWN_CALL', `no call ${id} in the log`);
      return call;
    });
  }

  listCalls(filter: CallLogFilter = {}): CallLogPage {
    this.flush();
    const query = buildCallQuery(filter, this.numberStrategy(filter.number));
    const rows = this.statement(query.sql).all(...query.args) as Row[];
    const calls = rows.slice(0, query.limit).map(fromRow);
    const last = calls[calls.length - 1];
    return rows.length > query.limit && last ? { calls, next: { startedAt: last.startedAt, id: last.id } } : { calls };
  }

  /** Rare substrings go through the trigram index; common ones scan newest first (see indexedSearchLimit). */
  private numberStrategy(number: string | undefined): 'index' | 'scan' {
    if (!indexableSearch(number)) return 'scan';
    const hits = this.statement(`SELECT COUNT(*) AS n FROM (SELECT rowid FROM calls_search WHERE calls_search MATCH ? LIMIT ${indexedSearchLimit + 1})`).get(searchPhrase(number.trim())) as { n: number };
    return hits.n > indexedSearchLimit ? 'scan' : 'index';
  }

  /** Run several writes as one transaction (one commit), all or nothing: imports, test fixtures, benchmarks. */
  batch<T>(action: () => T): T {
    this.flush();
    return this.db.transaction(() => {
      const result = action();
      this.flushWrites(true);
      return result;
    })();
  }

  /** The retention policy in force: the one given at open, else the one saved in the file, else keep everything. */
  retention(): RetentionPolicy {
    if (this.options.retention) return { ...this.options.retention };
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(retentionKey) as { value: string } | undefined;
    if (!row) return {};
    try {
      return checkRetention(JSON.parse(row.value) as RetentionPolicy);
    } catch {
      return {}; // a hand-edited, unreadable setting keeps everything rather than deleting by mistake
    }
  }

  /** Save the retention policy in the file (every process using the file follows it) and apply it now. */
  setRetention(policy: RetentionPolicy): number {
    const checked = checkOrThrow(policy);
    this.write(() => {
      if (checked.maxAgeDays === undefined && checked.maxCalls === undefined) this.db.prepare('DELETE FROM settings WHERE key = ?').run(retentionKey);
      else this.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(retentionKey, JSON.stringify(checked));
    });
    return this.applyRetention();
  }

  /** Remove the calls the policy no longer keeps; returns how many. */
  applyRetention(now = Date.now()): number {
    if (this.closed) return 0;
    const policy = this.retention();
    if (policy.maxAgeDays === undefined && policy.maxCalls === undefined) return 0;
    this.flush();
    let removed = 0;
    this.write(() => (removed = pruneCalls(this.db, policy, now)));
    return removed;
  }

  /** How many calls the log holds. */
  countCalls(): number {
    this.flush();
    return (this.db.prepare('SELECT COUNT(*) AS n FROM calls').get() as { n: number }).n;
  }

  /**
   * The calls a user-given reference names: our call id, a SIP Call-ID, or a unique prefix (6+ characters) of our
   * call id — the forms `veilphone logs show` accepts.
   */
  resolveCall(reference: string): string[] {
    this.flush();
    const exact = this.db.prepare('SELECT id FROM calls WHERE id = ? OR sip_call_id = ? ORDER BY started_at').all(reference, reference) as Array<{ id: string }>;
    if (exact.length > 0 || reference.length < 6) return exact.map((r) => r.id);
    const like = `${reference.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return (this.db.prepare("SELECT id FROM calls WHERE id LIKE ? ESCAPE '\\' LIMIT 10").all(like) as Array<{ id: string }>).map((r) => r.id);
  }

  /** SQLite's own consistency check (`PRAGMA integrity_check`) and the search index's; "ok" when both are sound. */
  integrityCheck(): string {
    this.flush();
    const sqlite = String(this.db.pragma('integrity_check', { simple: true }));
    if (sqlite !== 'ok') return sqlite;
    try {
      this.db.prepare("INSERT INTO calls_search (calls_search, rank) VALUES ('integrity-check', 1)").run();
    } catch (error) {
      return `search index: ${(error as Error).message}`;
    }
    return 'ok';
  }

  close(): void {
    if (this.closed) return;
    clearInterval(this.retentionTimer);
    try {
      this.flush();
    } finally {
      openStores.delete(this);
      this.closed = true;
    }
    this.db.close();
  }

  /**
   * Calls "in-progress" whose writing process is gone were cut off by a crash or kill: mark them "interrupted", ended
   * at their last traced message. Rows from before owners were recorded (no owner) count as gone.
   */
  private markInterrupted(): void {
    const owners = (this.db.prepare("SELECT DISTINCT owner_pid AS pid FROM calls WHERE result = 'in-progress'").all() as Array<{ pid: number | null }>).map((r) => r.pid);
    const gone = owners.filter((pid) => pid === null || !processAlive(pid));
    if (gone.length === 0) return;
    const known = gone.filter((pid): pid is number => pid !== null);
    const ownerClause = [...(gone.includes(null) ? ['owner_pid IS NULL'] : []), ...(known.length ? [`owner_pid IN (${known.map(() => '?').join(', ')})`] : [])].join(' OR ');
    this.write(() =>
      this.db
        .prepare(
          `UPDATE calls SET result = 'interrupted',
             ended_at = COALESCE(ended_at, (SELECT MAX(at) FROM messages WHERE call_id = calls.id AND refused IS NULL), answered_at, started_at)
           WHERE result = 'in-progress' AND (${ownerClause})`,
        )
        .run(...known),
    );
  }

  private reportBackground(error: unknown): void {
    const failure = error instanceof CallLogError ? error : new CallLogError('WRITE_FAILED', (error as Error).message);
    (this.options.onError ?? ((e) => console.error(`call log: ${e.message}`)))(failure);
  }

  private seqFor(callId: string): number {
    if (this.nextSeq.size > 10_000) this.nextSeq.clear(); // re-read from the file when needed; keeps a long run bounded
    let seq = this.nextSeq.get(callId);
    if (seq === undefined) {
      const row = this.db.prepare('SELECT COALESCE(MAX(seq), -1) + 1 AS next FROM messages WHERE call_id = ?').get(callId) as { next: number };
      seq = row.next;
    }
    this.nextSeq.set(callId, seq + 1);
    return seq;
  }

  private write(action: () => void): void {
    if (this.closed) return;
    try {
      action();
    } catch (error) {
      if (error instanceof CallLogError) throw error;
      throw new CallLogError('WRITE_FAILED', `call log write failed: ${(error as Error).message}`);
    }
  }
}

type Row = Record<string, unknown>;

/** On exit (a normal end, process.exit after a signal): what is still queued goes to the file. */
function flushOpenStores(): void {
  for (const store of openStores) {
    try {
      store.flush();
    } catch (error) {
      console.error(`call log: ${(error as Error).message}`);
    }
  }
}

/**
 * The log and SQLite's companion files readable by their owner only (issue 17). SQLite creates `-wal`, `-shm` and
 * `-journal` with the mode of the main file (and sets that mode despite the umask), so the main file is made 0600
 * before SQLite opens it: created empty (a valid new database) when missing, else tightened by path — never opened
 * here, as closing a second descriptor would drop SQLite's POSIX locks on it. Companions left by an earlier run keep
 * their old mode when reused, so they are tightened too.
 */
function makeLogPrivate(file: string): void {
  createPrivateDir(path.dirname(file));
  try {
    fs.closeSync(openPrivateFile(file, 'wx'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    restrictMode(file, privateFileMode);
  }
  for (const companion of callLogCompanions) restrictMode(`${file}${companion}`, privateFileMode);
}

/** The files SQLite keeps beside a database in WAL mode (and a rollback journal while it switches to WAL). */
export const callLogCompanions = ['-wal', '-shm', '-journal'] as const;

/** The process with this id still runs (EPERM: it runs as another user). Our own process counts as running. */
function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function checkOrThrow(policy: RetentionPolicy): RetentionPolicy {
  try {
    return checkRetention(policy);
  } catch (error) {
    if (error instanceof RetentionError) throw new CallLogError('INVALID_RETENTION', error.message);
    throw error;
  }
}

/** Fields stored as JSON text. */
const jsonColumns = new Set(['ports', 'redirects', 'endCause']);

function toRow(update: Partial<CallLogEntry>): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(cleanedNetworkWords(update))) {
    const column = columns[key as keyof typeof columns];
    if (column === undefined || value === undefined) continue;
    row[column] = jsonColumns.has(key) ? JSON.stringify(value) : typeof value === 'boolean' ? (value ? 1 : 0) : value;
  }
  return row;
}

function fromRow(row: Row): CallLogEntry {
  const entry: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(columns)) {
    const value = row[column];
    if (value === null || value === undefined) continue;
    const read = jsonColumns.has(key) ? readStoredJson(key as 'ports' | 'redirects' | 'endCause', String(value)) : key === 'remoteAnonymous' ? value === 1 : value;
    if (read !== undefined) entry[key] = read;
  }
  entry.remoteAnonymous ??= false;
  const result = entry as unknown as CallLogEntry;
  if (result.endedAt !== undefined) result.durationMs = result.answeredAt !== undefined ? result.endedAt - result.answeredAt : 0;
  result.result = (row.result as CallResult) ?? 'in-progress';
  return result;
}
