import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { CallLogDetail, CallLogEntry, CallLogFilter, CallLogPage, CallResult, TraceMessage } from '../api/call-log-types.js';
import type { SipTapEntry } from '../sip/transport/message-tap.js';
import { schemaStatements, schemaVersion } from './schema.js';

export class CallLogError extends Error {
  override readonly name = 'CallLogError';
  constructor(
    readonly code: 'OPEN_FAILED' | 'NEWER_SCHEMA' | 'UNKNOWN_CALL' | 'WRITE_FAILED',
    message: string,
  ) {
    super(message);
  }
}

/** What is known when a call starts. */
export type CallStart = Pick<CallLogEntry, 'id' | 'accountId' | 'direction' | 'sipCallId' | 'remoteShown' | 'remoteUri' | 'remoteAnonymous' | 'startedAt'> &
  Partial<Pick<CallLogEntry, 'remoteUser' | 'dialed' | 'sentFrom' | 'sentTo' | 'sentRequestUri' | 'anonymity' | 'localAddress' | 'localSip' | 'ports' | 'lease'>>;

export type CallUpdate = Partial<Omit<CallLogEntry, 'id' | 'direction' | 'durationMs'>>;

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
  anonymity: 'anonymity',
  localAddress: 'local_address',
  localSip: 'local_sip',
  ports: 'ports',
  lease: 'lease',
  startedAt: 'started_at',
  answeredAt: 'answered_at',
  endedAt: 'ended_at',
  status: 'status',
  reason: 'reason',
  endedBy: 'ended_by',
  result: 'result',
};

/**
 * The durable call log: SQLite in WAL mode (better-sqlite3). Every statement commits on its own, so a call row
 * and every message already written survive a crash of the process; trace messages are queued and written in
 * one transaction per event-loop turn to keep fsyncs off the signaling path. On open, calls a crash left
 * "in-progress" are marked "interrupted".
 */
export class CallLogStore {
  private readonly pending: Array<{ callId: string; entry: SipTapEntry }> = [];
  private flushScheduled = false;
  private readonly nextSeq = new Map<string, number>();
  private readonly insertMessage: Database.Statement;
  private readonly statements = new Map<string, Database.Statement>();
  private closed = false;

  private constructor(private readonly db: Database.Database) {
    this.insertMessage = db.prepare('INSERT INTO messages (call_id, seq, dir, at, transport, local, remote, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  }

  /** Open (or create) the log at `file`; `:memory:` for tests. */
  static open(file: string): CallLogStore {
    let db: Database.Database;
    try {
      if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
      db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL'); // WAL + NORMAL: durable across a process crash, not a power cut
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
    } catch (error) {
      throw new CallLogError('OPEN_FAILED', `cannot open the call log at ${file}: ${(error as Error).message}`);
    }
    const version = Number(db.pragma('user_version', { simple: true }));
    if (version > schemaVersion) {
      db.close();
      throw new CallLogError('NEWER_SCHEMA', `${file} was written by a newer Veilphone (schema ${version} > ${schemaVersion})`);
    }
    db.transaction(() => {
      for (const statement of schemaStatements) db.exec(statement);
      db.pragma(`user_version = ${schemaVersion}`);
    })();
    const store = new CallLogStore(db);
    store.markInterrupted();
    return store;
  }

  startCall(call: CallStart): void {
    const row = toRow({ ...call, result: 'in-progress' });
    const names = Object.keys(row);
    this.write(() => this.statement(`INSERT INTO calls (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`).run(...names.map((n) => row[n])));
  }

  updateCall(id: string, update: CallUpdate): void {
    const row = toRow(update);
    const names = Object.keys(row);
    if (names.length === 0) return;
    this.write(() => {
      const result = this.statement(`UPDATE calls SET ${names.map((n) => `${n} = ?`).join(', ')} WHERE id = ?`).run(...names.map((n) => row[n]), id);
      if (result.changes === 0) throw new CallLogError('UNKNOWN_CALL', `no call ${id} in the log`);
    });
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

  /** Queue one traced message for a call; written within this event-loop turn. */
  appendMessage(callId: string, entry: SipTapEntry): void {
    if (this.closed) return;
    this.pending.push({ callId, entry });
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Write every queued message now. */
  flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0 || this.closed) return;
    const batch = this.pending.splice(0);
    this.write(() =>
      this.db.transaction(() => {
        for (const { callId, entry } of batch) {
          const seq = this.seqFor(callId);
          this.insertMessage.run(callId, seq, entry.dir, entry.at, entry.transport, entry.local, entry.remote, entry.raw);
        }
      })(),
    );
  }

  getCall(id: string): CallLogDetail | undefined {
    this.flush();
    const row = this.db.prepare('SELECT * FROM calls WHERE id = ?').get(id) as Row | undefined;
    if (!row) return undefined;
    const messages = this.db
      .prepare('SELECT seq, dir, at, transport, local, remote, raw FROM messages WHERE call_id = ? ORDER BY seq')
      .all(id) as TraceMessage[];
    return { ...fromRow(row), messages };
  }

  listCalls(filter: CallLogFilter = {}): CallLogPage {
    this.flush();
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (clause: string, ...values: unknown[]): void => {
      where.push(clause);
      args.push(...values);
    };
    if (filter.number !== undefined) {
      const like = `%${filter.number.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      add("(remote_user LIKE ? ESCAPE '\\' OR remote_uri LIKE ? ESCAPE '\\' OR dialed LIKE ? ESCAPE '\\' OR remote_shown LIKE ? ESCAPE '\\')", like, like, like, like);
    }
    if (filter.sipCallId !== undefined) add('sip_call_id = ?', filter.sipCallId);
    if (filter.since !== undefined) add('started_at >= ?', filter.since);
    if (filter.until !== undefined) add('started_at <= ?', filter.until);
    if (filter.result !== undefined) add('result = ?', filter.result);
    if (filter.direction !== undefined) add('direction = ?', filter.direction);
    if (filter.accountId !== undefined) add('account_id = ?', filter.accountId);
    if (filter.anonymous !== undefined) {
      add(filter.anonymous ? "(remote_anonymous = 1 OR (anonymity IS NOT NULL AND anonymity <> 'none'))" : "(remote_anonymous = 0 AND (anonymity IS NULL OR anonymity = 'none'))");
    }
    if (filter.before !== undefined) add('(started_at < ? OR (started_at = ? AND id < ?))', filter.before.startedAt, filter.before.startedAt, filter.before.id);
    const limit = Math.min(Math.max(filter.limit ?? 50, 1), 1000);
    const sql = `SELECT * FROM calls ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, limit + 1) as Row[];
    const calls = rows.slice(0, limit).map(fromRow);
    const last = calls[calls.length - 1];
    return rows.length > limit && last ? { calls, next: { startedAt: last.startedAt, id: last.id } } : { calls };
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

  /** SQLite's own consistency check; "ok" when the file is sound. */
  integrityCheck(): string {
    return String(this.db.pragma('integrity_check', { simple: true }));
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.db.close();
  }

  private markInterrupted(): void {
    this.db.prepare("UPDATE calls SET result = 'interrupted', ended_at = COALESCE(ended_at, ?) WHERE result = 'in-progress'").run(Date.now());
  }

  private seqFor(callId: string): number {
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

function toRow(update: Partial<CallLogEntry>): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(update)) {
    const column = columns[key as keyof typeof columns];
    if (column === undefined || value === undefined) continue;
    row[column] = key === 'ports' ? JSON.stringify(value) : typeof value === 'boolean' ? (value ? 1 : 0) : value;
  }
  return row;
}

function fromRow(row: Row): CallLogEntry {
  const entry: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(columns)) {
    const value = row[column];
    if (value === null || value === undefined) continue;
    entry[key] = key === 'ports' ? JSON.parse(String(value)) : key === 'remoteAnonymous' ? value === 1 : value;
  }
  entry.remoteAnonymous ??= false;
  const result = entry as unknown as CallLogEntry;
  if (result.endedAt !== undefined) result.durationMs = result.answeredAt !== undefined ? result.endedAt - result.answeredAt : 0;
  result.result = (row.result as CallResult) ?? 'in-progress';
  return result;
}
