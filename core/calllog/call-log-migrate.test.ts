import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { CallLogStore } from './call-log-store.js';
import { migrateCallLog } from './migrate.js';
import { migrations, schemaVersion } from './schema.js';

const dirs: string[] = [];
function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-migrate-'));
  dirs.push(dir);
  return path.join(dir, 'calls.sqlite');
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A file as the first release wrote it: schema 1, two calls with messages. */
function writeVersion1(file: string): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  migrateCallLog(db, migrations.slice(0, 1));
  expect(db.pragma('user_version', { simple: true })).toBe(1);
  const insert = db.prepare('INSERT INTO calls (id, account_id, direction, sip_call_id, remote_shown, remote_uri, remote_user, started_at, result, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  insert.run('old-1', 'alice', 'outgoing', 'cid-1', 'Bob', 'sip:0312345678@lab', '0312345678', 1000, 'answered', 200);
  insert.run('old-2', 'alice', 'incoming', 'cid-2', 'Carol', 'sip:carol@lab', 'carol', 2000, 'in-progress', null);
  const message = db.prepare("INSERT INTO messages (call_id, seq, dir, at, transport, local, remote, raw) VALUES (?, ?, 'out', ?, 'udp', '127.0.0.1:5062', '127.0.0.1:5060', ?)");
  message.run('old-1', 0, 1000, 'INVITE sip:0312345678@lab SIP/2.0');
  message.run('old-1', 1, 1001, 'SIP/2.0 200 OK');
  message.run('old-2', 0, 2000, 'INVITE sip:alice@lab SIP/2.0');
  db.close();
}

describe('call log schema migrations', () => {
  it('upgrades a schema-1 file in place: rows, messages and search survive, the open call becomes interrupted', () => {
    const file = tempFile();
    writeVersion1(file);
    const store = CallLogStore.open(file);
    const db = new Database(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(schemaVersion);
    db.close();
    expect(store.getCall('old-1')).toMatchObject({ status: 200, result: 'answered', remoteUser: '0312345678', messages: [{ seq: 0 }, { seq: 1 }] });
    expect(store.getCall('old-2')).toMatchObject({ result: 'interrupted', endedAt: 2000 }); // ended at its last message
    expect(store.listCalls({ number: '345678' }).calls.map((c) => c.id)).toEqual(['old-1']); // the trigram index was built from old rows
    expect(store.integrityCheck()).toBe('ok');
    // New columns work on the upgraded table, and the search index follows updates.
    store.startCall({ id: 'new-1', accountId: 'alice', direction: 'outgoing', sipCallId: 'cid-3', remoteShown: 'Dave', remoteUri: 'sip:d1@lab', remoteAnonymous: false, startedAt: 3000, localRtp: '127.0.0.1:16384', transport: 'udp' });
    store.updateCall('new-1', { remoteShown: 'David', remoteRtp: '127.0.0.1:16500', codec: 'PCMU' });
    expect(store.listCalls({ number: 'david' }).calls.map((c) => c.id)).toEqual(['new-1']);
    expect(store.listCalls({ number: 'Dave' }).calls).toHaveLength(0);
    expect(store.getCall('new-1')).toMatchObject({ localRtp: '127.0.0.1:16384', remoteRtp: '127.0.0.1:16500', codec: 'PCMU', transport: 'udp' });
    // the messages of old rows were never refused (schema 9); a new one the phone threw away keeps why
    expect(store.getCall('old-1')!.messages.map((m) => m.refused)).toEqual([undefined, undefined]);
    store.appendMessage('new-1', { dir: 'in', at: 3001, transport: 'udp', local: '127.0.0.1:5062', remote: '127.0.0.1:40111', raw: 'BYE sip:alice@lab SIP/2.0\r\n\r\n', refused: 'STRANGER_NO_DIALOG' });
    store.flush();
    expect(store.getCall('new-1')!.messages).toMatchObject([{ seq: 0, refused: 'STRANGER_NO_DIALOG' }]);
    // schema 10: why the phone ended a call by itself; old rows have none, and a stored value that is not one reads as none
    expect(store.getCall('old-1')!.endCause).toBeUndefined();
    store.updateCall('new-1', { endedBy: 'network', endCause: { kind: 'no-media', seconds: 30 } });
    store.flush();
    expect(store.getCall('new-1')).toMatchObject({ endedBy: 'network', endCause: { kind: 'no-media', seconds: 30 } });
    expect(store.listCalls({}).calls.find((c) => c.id === 'new-1')!.endCause).toEqual({ kind: 'no-media', seconds: 30 });
    store.close();
    const raw = new Database(file);
    const set = raw.prepare('UPDATE calls SET end_cause = ? WHERE id = ?');
    for (const [id, stored] of [['old-1', 'not json'], ['old-2', '{"kind":"no-media","seconds":-1}'], ['new-1', '{"kind":"session-expired","extra":1}']] as const) set.run(stored, id);
    raw.close();
    const reopened = CallLogStore.open(file);
    expect([reopened.getCall('old-1')!.endCause, reopened.getCall('old-2')!.endCause, reopened.getCall('new-1')!.endCause]).toEqual([undefined, undefined, { kind: 'session-expired' }]);
    reopened.close();
  });

  it('reopening an up-to-date file changes nothing, and a file from a newer Veilphone is refused with a code', () => {
    const file = tempFile();
    CallLogStore.open(file).close();
    const again = CallLogStore.open(file);
    expect(again.countCalls()).toBe(0);
    again.close();
    const db = new Database(file);
    db.pragma(`user_version = ${schemaVersion + 1}`);
    db.close();
    expect(() => CallLogStore.open(file)).toThrowError(expect.objectContaining({ code: 'NEWER_SCHEMA' }));
  });

  it('a failing migration leaves the file at its old version, untouched', () => {
    const file = tempFile();
    writeVersion1(file);
    const db = new Database(file);
    const broken = [...migrations.slice(0, 1), { ...migrations[1]!, statements: [...migrations[1]!.statements, 'THIS IS NOT SQL'] }];
    expect(() => migrateCallLog(db, broken)).toThrowError(expect.objectContaining({ code: 'MIGRATION_FAILED' }));
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(db.prepare('SELECT COUNT(*) AS n FROM messages').get()).toEqual({ n: 3 });
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name IN ('calls_v2', 'calls_search', 'settings')").all()).toEqual([]);
    db.close();
  });
});

describe('migration 8: the network\'s words as they are shown', () => {
  it('rewrites names and reason phrases stored raw, and the search index follows them', () => {
    const file = tempFile();
    const db = new Database(file);
    migrateCallLog(db, migrations.slice(0, 7));
    const insert = db.prepare('INSERT INTO calls (id, account_id, direction, sip_call_id, remote_shown, remote_uri, remote_user, started_at, result, status, reason, redirects) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    insert.run('raw', 'alice', 'incoming', 'cid-1', '\u202EYour Ba\u200Bnk\x1b[2J', 'sip:eve@x', 'eve', 1000, 'busy', 486, 'Busy\u200B Here', JSON.stringify([{ status: 302, reason: 'Moved\u202E', target: 'sip:b@x' }]));
    insert.run('clean', 'alice', 'outgoing', 'cid-2', 'Carol', 'sip:carol@x', 'carol', 2000, 'answered', 200, null, null);
    // a name of nothing but invisible characters falls back as the phone's does; a redirects value that is no list stays
    insert.run('blank', 'alice', 'incoming', 'cid-3', '\u200B\u202E', 'sip:mallory@x', 'mallory', 3000, 'missed', null, ' Busy  ', '{"status":302}');
    insert.run('spaced', 'alice', 'incoming', 'cid-4', ' Trudy\t ', 'sip:trudy@x', null, 4000, 'missed', null, null, 'not json');
    // a NUL (a quoted-pair allows one) hides the rest of the text from SQLite's GLOB and length()
    insert.run('nul', 'alice', 'incoming', 'cid-5', 'Bob\x00\u202Eknab ruoY', 'sip:eve@x', 'eve', 5000, 'missed', null, null, null);
    db.close();
    const store = CallLogStore.open(file);
    expect(store.getCall('raw')).toMatchObject({ remoteShown: 'Your Bank[2J', reason: 'Busy Here', redirects: [{ status: 302, reason: 'Moved', target: 'sip:b@x' }] });
    expect(store.getCall('clean')).toMatchObject({ remoteShown: 'Carol', remoteUser: 'carol' });
    expect(store.getCall('blank')).toMatchObject({ remoteShown: 'mallory', reason: 'Busy' });
    expect(store.getCall('blank')!.redirects).toBeUndefined(); // what is not a list of redirections reads as none
    expect(store.listCalls({}).calls.find((c) => c.id === 'blank')).toMatchObject({ remoteShown: 'mallory' });
    expect(store.getCall('nul')).toMatchObject({ remoteShown: 'Bobknab ruoY' });
    expect(store.listCalls({ number: 'Bank' }).calls.map((c) => c.id)).toEqual(['raw']);
    expect(store.integrityCheck()).toBe('ok');
    store.close();
    const raw = new Database(file, { readonly: true });
    expect(raw.prepare("SELECT remote_shown FROM calls WHERE id = 'raw'").pluck().get()).toBe('Your Bank[2J');
    expect(raw.prepare("SELECT remote_shown || '|' || redirects FROM calls WHERE id = 'spaced'").pluck().get()).toBe('Trudy|not json');
    raw.close();
  });
});

describe('integrity check', () => {
  it('reports a search index that no longer matches its calls', () => {
    const file = tempFile();
    const store = CallLogStore.open(file);
    store.startCall({ id: 'a', accountId: 'alice', direction: 'outgoing', sipCallId: 'x', remoteShown: 'Bob', remoteUri: 'sip:bob@lab', remoteAnonymous: false, startedAt: 1 });
    expect(store.integrityCheck()).toBe('ok');
    const db = new Database(file);
    db.exec('DROP TRIGGER calls_search_update');
    db.prepare("UPDATE calls SET remote_shown = 'Mallory' WHERE id = 'a'").run();
    db.close();
    expect(store.integrityCheck()).toMatch(/^search index: /);
    store.close();
  });
});
