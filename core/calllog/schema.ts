import type Database from 'better-sqlite3';
import type { CallRedirect } from '../api/phone-types.js';
import { cleanedNetworkWords } from './network-words.js';
import { readStoredJson } from './stored-json.js';
import { redactTrace } from './trace-redaction.js';
import { shownName } from '../privacy/shown-name.js';

/**
 * The call log's schema as numbered migrations: migration N upgrades a file whose `user_version` is N-1. Never edit
 * a migration that has shipped; add the next one. `schemaVersion` is what this build writes.
 */
export interface Migration {
  version: number;
  /** What it changes, for the error a failed upgrade reports. */
  description: string;
  statements: string[];
  /** Runs with foreign keys off (a table rebuild, SQLite's 12-step ALTER procedure), checked before commit. */
  rebuildsTables?: boolean;
  /** A step in code, after the statements, in the same transaction. */
  rewrite?: (db: Database.Database) => void;
  /**
   * It removes content that must not survive anywhere in the file: the file is rebuilt (VACUUM) and the WAL emptied
   * before the version moves (migrate.ts `scrub`), so its statements and rewrite must be safe to run twice.
   */
  scrubs?: boolean;
}

/** Columns of `calls` from version 2 on (the table is rebuilt, not altered, in migration 2). */
const callsColumnsV2 = `
    n INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('outgoing', 'incoming')),
    sip_call_id TEXT NOT NULL,
    remote_shown TEXT NOT NULL,
    remote_uri TEXT NOT NULL,
    remote_user TEXT,
    remote_anonymous INTEGER NOT NULL DEFAULT 0,
    dialed TEXT,
    sent_from TEXT,
    sent_to TEXT,
    sent_request_uri TEXT,
    anonymity TEXT,
    local_address TEXT,
    local_sip TEXT,
    remote_sip TEXT,
    transport TEXT,
    local_rtp TEXT,
    remote_rtp TEXT,
    codec TEXT,
    ports TEXT,
    lease TEXT,
    started_at INTEGER NOT NULL,
    answered_at INTEGER,
    ended_at INTEGER,
    status INTEGER,
    reason TEXT,
    ended_by TEXT,
    result TEXT NOT NULL DEFAULT 'in-progress',
    owner_pid INTEGER`;

/** What a number search looks in: the other party as shown, as a URI, as dialled and as really sent. */
export const searchedColumns = ['remote_shown', 'remote_uri', 'remote_user', 'dialed', 'sent_to', 'sent_request_uri'] as const;

const searchTriggers = [
  `CREATE TRIGGER calls_search_insert AFTER INSERT ON calls BEGIN
    INSERT INTO calls_search (rowid, ${searchedColumns.join(', ')}) VALUES (new.n, ${searchedColumns.map((c) => `new.${c}`).join(', ')});
  END`,
  `CREATE TRIGGER calls_search_delete AFTER DELETE ON calls BEGIN
    INSERT INTO calls_search (calls_search, rowid, ${searchedColumns.join(', ')}) VALUES ('delete', old.n, ${searchedColumns.map((c) => `old.${c}`).join(', ')});
  END`,
  `CREATE TRIGGER calls_search_update AFTER UPDATE OF ${searchedColumns.join(', ')} ON calls BEGIN
    INSERT INTO calls_search (calls_search, rowid, ${searchedColumns.join(', ')}) VALUES ('delete', old.n, ${searchedColumns.map((c) => `old.${c}`).join(', ')});
    INSERT INTO calls_search (rowid, ${searchedColumns.join(', ')}) VALUES (new.n, ${searchedColumns.map((c) => `new.${c}`).join(', ')});
  END`,
];

/**
 * Each equality filter leads an index that continues in list order (started_at, id, both descending), so a filtered
 * page is read in order and stops at its limit, whether the value is common or absent.
 */
const callIndexes = [
  'CREATE INDEX calls_started ON calls (started_at DESC, id DESC)',
  'CREATE INDEX calls_sip_call_id ON calls (sip_call_id)',
  'CREATE INDEX calls_remote_user ON calls (remote_user)',
  'CREATE INDEX calls_result ON calls (result, started_at DESC, id DESC)',
  'CREATE INDEX calls_status ON calls (status, started_at DESC, id DESC)',
  'CREATE INDEX calls_account ON calls (account_id, started_at DESC, id DESC)',
];

export const migrations: Migration[] = [
  {
    version: 1,
    description: 'calls and their ordered SIP messages',
    statements: [
      `CREATE TABLE IF NOT EXISTS calls (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('outgoing', 'incoming')),
        sip_call_id TEXT NOT NULL,
        remote_shown TEXT NOT NULL,
        remote_uri TEXT NOT NULL,
        remote_user TEXT,
        remote_anonymous INTEGER NOT NULL DEFAULT 0,
        dialed TEXT,
        sent_from TEXT,
        sent_to TEXT,
        sent_request_uri TEXT,
        anonymity TEXT,
        local_address TEXT,
        local_sip TEXT,
        ports TEXT,
        lease TEXT,
        started_at INTEGER NOT NULL,
        answered_at INTEGER,
        ended_at INTEGER,
        status INTEGER,
        reason TEXT,
        ended_by TEXT,
        result TEXT NOT NULL DEFAULT 'in-progress'
      )`,
      `CREATE TABLE IF NOT EXISTS messages (
        call_id TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        dir TEXT NOT NULL CHECK (dir IN ('in', 'out')),
        at INTEGER NOT NULL,
        transport TEXT NOT NULL,
        local TEXT NOT NULL,
        remote TEXT NOT NULL,
        raw TEXT NOT NULL,
        PRIMARY KEY (call_id, seq)
      ) WITHOUT ROWID`,
      'CREATE INDEX IF NOT EXISTS calls_started ON calls (started_at DESC, id DESC)',
      'CREATE INDEX IF NOT EXISTS calls_sip_call_id ON calls (sip_call_id)',
      'CREATE INDEX IF NOT EXISTS calls_remote_user ON calls (remote_user)',
      'CREATE INDEX IF NOT EXISTS calls_result ON calls (result, started_at DESC)',
    ],
  },
  {
    version: 2,
    description: 'stable row numbers, media and peer columns, the owning process, a trigram search index, settings',
    rebuildsTables: true,
    statements: [
      // SQLite's 12-step ALTER (https://sqlite.org/lang_altertable.html §7): a table without an INTEGER PRIMARY KEY
      // may renumber its rows on VACUUM, which would detach the search index, so `calls` gets `n`.
      `CREATE TABLE calls_v2 (${callsColumnsV2}\n  )`,
      `INSERT INTO calls_v2 (id, account_id, direction, sip_call_id, remote_shown, remote_uri, remote_user, remote_anonymous, dialed, sent_from, sent_to,
        sent_request_uri, anonymity, local_address, local_sip, ports, lease, started_at, answered_at, ended_at, status, reason, ended_by, result)
       SELECT id, account_id, direction, sip_call_id, remote_shown, remote_uri, remote_user, remote_anonymous, dialed, sent_from, sent_to,
        sent_request_uri, anonymity, local_address, local_sip, ports, lease, started_at, answered_at, ended_at, status, reason, ended_by, result
       FROM calls ORDER BY started_at, id`,
      'DROP TABLE calls',
      'ALTER TABLE calls_v2 RENAME TO calls',
      ...callIndexes,
      "CREATE INDEX calls_in_progress ON calls (owner_pid) WHERE result = 'in-progress'",
      // Substring search by number or user without a full scan (FTS5 trigram, SQLite ≥ 3.34).
      `CREATE VIRTUAL TABLE calls_search USING fts5(${searchedColumns.join(', ')}, content='calls', content_rowid='n', tokenize='trigram')`,
      "INSERT INTO calls_search (calls_search) VALUES ('rebuild')",
      ...searchTriggers,
      'CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID',
    ],
  },
  {
    version: 3,
    description: 'digest responses and SDES keys masked in stored traces (issue 17)',
    statements: [],
    rewrite: redactStoredTraces,
    scrubs: true,
  },
  {
    version: 4,
    description: 'the redirections an outgoing call followed (issue 19 item 8)',
    statements: ['ALTER TABLE calls ADD COLUMN redirects TEXT'],
  },
  {
    version: 5,
    description: 'the address book (issue 22 item 5): contacts and their numbers',
    statements: [
      `CREATE TABLE contacts (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        anonymous INTEGER NOT NULL DEFAULT 0,
        favourite INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID`,
      `CREATE TABLE contact_numbers (
        contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        label TEXT,
        number TEXT NOT NULL,
        PRIMARY KEY (contact_id, position)
      ) WITHOUT ROWID`,
      'CREATE INDEX contact_numbers_number ON contact_numbers (number)',
      'CREATE INDEX contacts_name ON contacts (name COLLATE NOCASE)',
    ],
  },
  {
    version: 6,
    description: 'whether signalling and media were encrypted (issue 18)',
    statements: ['ALTER TABLE calls ADD COLUMN signaling_tls TEXT', 'ALTER TABLE calls ADD COLUMN media_encryption TEXT'],
  },
  {
    version: 7,
    description: 'where a forwarded call was sent (issue 22 item 4)',
    statements: ['ALTER TABLE calls ADD COLUMN forwarded_to TEXT'],
  },
  {
    version: 8,
    description: 'names and reason phrases from the network kept as they are shown (network-words.ts)',
    statements: [],
    rewrite: cleanStoredNetworkWords,
  },
  {
    version: 9,
    description: 'why the phone threw a traced message away (a stranger\'s, malformed, a response to no Via of ours)',
    statements: ['ALTER TABLE messages ADD COLUMN refused TEXT'],
  },
  {
    version: 10,
    description: 'why the phone ended an answered call by itself (no media from the far end, its session expired)',
    statements: ['ALTER TABLE calls ADD COLUMN end_cause TEXT'],
  },
];

export const schemaVersion = migrations[migrations.length - 1]!.version;

/**
 * Every stored message through `redactTrace`, a page at a time in key order (bounded memory, and a statement is never
 * open while another writes). A later change to what `redactTrace` masks adds a migration that runs this again.
 */
function redactStoredTraces(db: Database.Database): void {
  // LIKE is case-insensitive for ASCII: only messages that may hold a secret are read back into JavaScript.
  const page = db.prepare(
    `SELECT call_id, seq, raw FROM messages WHERE (call_id, seq) > (?, ?)
       AND (raw LIKE '%authorization%' OR raw LIKE '%authentication-info%' OR raw LIKE '%a=crypto:%' OR raw LIKE '%k=clear:%' OR raw LIKE '%k=base64:%')
     ORDER BY call_id, seq LIMIT 256`,
  );
  const update = db.prepare('UPDATE messages SET raw = ? WHERE call_id = ? AND seq = ?');
  type Stored = { call_id: string; seq: number; raw: string };
  for (let rows = page.all('', -1) as Stored[]; rows.length > 0; ) {
    for (const row of rows) {
      const redacted = redactTrace(row.raw);
      if (redacted !== row.raw) update.run(redacted, row.call_id, row.seq);
    }
    const last = rows[rows.length - 1]!;
    rows = page.all(last.call_id, last.seq) as Stored[];
  }
}

/**
 * Rows written before the phone cleaned the other party's words keep them raw: each is rewritten as it is shown, a
 * page at a time in row order, and the search index follows through its update trigger, so a search finds what the
 * history shows. Only rows the cleaning could change are read: one with a character outside printable ASCII, a tab,
 * a run of spaces, a space at either end, a NUL (GLOB and length() stop at one), a name or phrase longer than is
 * shown, or a redirection's phrase (JSON
 * writes a control character as ASCII). A name left empty falls back as the phone's does (core/phone/phone-call.ts
 * partyFrom): to the user part, then the URI. A `redirects` value that does not read as a list stays as it is.
 */
function cleanStoredNetworkWords(db: Database.Database): void {
  const changeable = ['remote_shown', 'reason'].map((c) => `${c} GLOB '*[^ -~]*' OR ${c} GLOB '* ' OR ${c} GLOB ' *' OR ${c} GLOB '*  *'`).join(' OR ');
  const page = db.prepare(
    `SELECT n, remote_shown, remote_user, remote_uri, reason, redirects FROM calls
     WHERE n > ? AND (${changeable} OR instr(CAST(remote_shown AS BLOB), x'00') > 0 OR instr(CAST(reason AS BLOB), x'00') > 0 OR length(remote_shown) > 256 OR length(reason) > 128 OR redirects GLOB '*"reason"*') ORDER BY n LIMIT 256`,
  );
  const update = db.prepare('UPDATE calls SET remote_shown = ?, reason = ?, redirects = ? WHERE n = ?');
  type Stored = { n: number; remote_shown: string; remote_user: string | null; remote_uri: string; reason: string | null; redirects: string | null };
  for (let rows = page.all(-1) as Stored[]; rows.length > 0; ) {
    for (const row of rows) {
      const redirects = row.redirects === null ? undefined : (readStoredJson('redirects', row.redirects) as CallRedirect[] | undefined);
      const cleaned = cleanedNetworkWords({ remoteShown: row.remote_shown, ...(row.reason !== null ? { reason: row.reason } : {}), ...(redirects ? { redirects } : {}) });
      const shown = cleaned.remoteShown || shownName(row.remote_user ?? '') || shownName(row.remote_uri, 256);
      const cleanedRedirects = cleaned.redirects ? JSON.stringify(cleaned.redirects) : row.redirects;
      if (shown !== row.remote_shown || (cleaned.reason ?? null) !== row.reason || cleanedRedirects !== row.redirects) update.run(shown, cleaned.reason ?? null, cleanedRedirects, row.n);
    }
    rows = page.all(rows[rows.length - 1]!.n) as Stored[];
  }
}
