/** Bumped whenever a statement below changes meaning; older files are upgraded by the IF NOT EXISTS forms. */
export const schemaVersion = 1;

export const schemaStatements = [
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
];
