import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { SipTapEntry } from '../sip/transport/message-tap.js';
import { callLogFile } from './call-log-file.js';
import { CallLogStore, type CallStart } from './call-log-store.js';
import { callLogToJson } from './json-export.js';
import { migrateCallLog } from './migrate.js';
import { tracesToPcap } from './pcap-export.js';
import { migrations, schemaVersion } from './schema.js';

/** Issue 17: what a stolen call log file, or an export of it, gives away. */
const dirs: string[] = [];
function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-secrets-'));
  dirs.push(dir);
  return path.join(dir, 'calllog.sqlite');
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');
const response = md5('the digest response of hunter2');
const rspauth = md5('the rspauth of hunter2');
const sdesKey = 'WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzcyAoHAI';
const secrets = [response, rspauth, sdesKey];

const sdp = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 16384 RTP/SAVP 0', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${sdesKey}|2^20|1:32`, ''].join('\r\n');
/** An INVITE with credentials and an SDES offer; `padding` makes it span SQLite overflow pages. */
function invite(padding = 0): string {
  return [
    'INVITE sip:bob@lab.invalid SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-1',
    'Call-ID: cid-1',
    'CSeq: 2 INVITE',
    `Proxy-Authorization: Digest username="alice", realm="lab.invalid", nonce="4f1a9c", uri="sip:bob@lab.invalid", response="${response}", qop=auth, nc=00000001, cnonce="0a4f"`,
    ...(padding > 0 ? [`X-Padding: ${'p'.repeat(padding)}`] : []),
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(sdp)}`,
    '',
    sdp,
  ].join('\r\n');
}
const ok = `SIP/2.0 200 OK\r\nCall-ID: cid-1\r\nCSeq: 2 INVITE\r\nAuthentication-Info: qop=auth, rspauth="${rspauth}", cnonce="0a4f", nc=00000001\r\nContent-Length: 0\r\n\r\n`;

function entry(dir: 'in' | 'out', raw: string, at = 1_700_000_000_000): SipTapEntry {
  return { dir, at, transport: 'udp', local: '127.0.0.1:5062', remote: '127.0.0.1:5060', raw };
}
const call: CallStart = { id: 'c1', accountId: 'alice', direction: 'outgoing', sipCallId: 'cid-1', remoteShown: 'bob', remoteUri: 'sip:bob@lab.invalid', remoteAnonymous: false, startedAt: 1_700_000_000_000 };

/** Every byte SQLite keeps for `file`, as text to search. */
function fileBytes(file: string): string {
  return ['', '-wal', '-shm', '-journal']
    .map((suffix) => file + suffix)
    .filter((f) => fs.existsSync(f))
    .map((f) => fs.readFileSync(f).toString('latin1'))
    .join('\n');
}

function expectNoSecret(text: string, where: string): void {
  for (const secret of secrets) expect(text.includes(secret), `${where} holds ${secret.slice(0, 8)}…`).toBe(false);
}

/** The content-length of each SIP message in a pcap's UDP payloads equals its body's length. */
function pcapPayloads(pcap: Buffer): string[] {
  const out: string[] = [];
  for (let offset = 24; offset < pcap.length; ) {
    const length = pcap.readUInt32LE(offset + 8);
    const frame = pcap.subarray(offset + 16, offset + 16 + length);
    out.push(frame.subarray(14 + 20 + 8).toString('utf8')); // Ethernet, IPv4, UDP
    offset += 16 + length;
  }
  return out;
}

describe('secrets in the call log (issue 17)', () => {
  it('stores a trace with the digest response, rspauth and SDES key masked: rows, file bytes and every export', () => {
    const file = tempFile();
    const store = CallLogStore.open(file, { retentionIntervalMs: 0 });
    store.startCall(call);
    store.appendMessage('c1', entry('out', invite()));
    store.appendMessage('c1', entry('in', ok));
    store.flush();

    const db = new Database(file, { readonly: true });
    const stored = (db.prepare('SELECT raw FROM messages ORDER BY seq').all() as Array<{ raw: string }>).map((r) => r.raw);
    db.close();
    expect(stored[0]).toContain('response="<redacted>", qop=auth, nc=00000001, cnonce="0a4f"');
    expect(stored[0]).toContain('username="alice", realm="lab.invalid", nonce="4f1a9c", uri="sip:bob@lab.invalid"');
    expect(stored[1]).toContain('rspauth="<redacted>"');
    expectNoSecret(stored.join('\n'), 'the stored rows');
    expectNoSecret(fileBytes(file), 'the SQLite files');

    const detail = store.getCall('c1')!;
    expectNoSecret(JSON.stringify(detail), 'the call detail');
    const json = callLogFile([detail], 'json');
    expectNoSecret(json.data, 'the JSON export');
    const pcap = Buffer.from(callLogFile([detail], 'pcap').data, 'base64');
    const payloads = pcapPayloads(pcap);
    expect(payloads).toHaveLength(2);
    expectNoSecret(pcap.toString('latin1'), 'the pcap export');
    // Bodies are masked to their own length: each datagram's Content-Length still matches its body.
    for (const payload of payloads) {
      const length = Number(/^Content-Length: (\d+)$/im.exec(payload)![1]);
      expect(Buffer.byteLength(payload.slice(payload.indexOf('\r\n\r\n') + 4))).toBe(length);
    }
    store.close();
  });

  it('exports mask messages that did not come from a store, too', () => {
    const messages = [{ ...entry('out', invite()), seq: 0 }];
    expectNoSecret(tracesToPcap(messages).toString('latin1'), 'tracesToPcap');
    expectNoSecret(JSON.stringify(callLogToJson([{ ...call, result: 'answered', messages }])), 'callLogToJson');
  });

  it('migration 3 masks a log written before it: rows, overflow pages, free space and the WAL keep nothing', () => {
    const file = tempFile();
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    migrateCallLog(old, migrations.slice(0, 2));
    old.prepare("INSERT INTO calls (id, account_id, direction, sip_call_id, remote_shown, remote_uri, started_at, result) VALUES ('c1', 'alice', 'outgoing', 'cid-1', 'bob', 'sip:bob@lab.invalid', 1, 'answered')").run();
    const insert = old.prepare("INSERT INTO messages (call_id, seq, dir, at, transport, local, remote, raw) VALUES ('c1', ?, 'out', 1, 'udp', '127.0.0.1:5062', '127.0.0.1:5060', ?)");
    const plain = 'BYE sip:bob@lab.invalid SIP/2.0\r\nCall-ID: cid-1\r\nCSeq: 3 BYE\r\nContent-Length: 0\r\n\r\n';
    for (let seq = 0; seq < 600; seq++) insert.run(seq, seq % 3 === 0 ? invite(seq % 2 === 0 ? 9000 : 0) : seq % 3 === 1 ? ok : plain);
    old.close();
    expect(fileBytes(file)).toContain(response); // what the stolen file gave away
    expect(fileBytes(file)).toContain(sdesKey);

    const store = CallLogStore.open(file, { retentionIntervalMs: 0 });
    const db = new Database(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(schemaVersion);
    const rows = db.prepare('SELECT seq, raw FROM messages ORDER BY seq').all() as Array<{ seq: number; raw: string }>;
    db.close();
    expect(rows).toHaveLength(600);
    expect(rows[0]!.raw).toBe(invite(9000).replace(response, '<redacted>').replace(sdesKey, 'REDACTED'.repeat(6).slice(0, sdesKey.length)));
    expect(rows[1]!.raw).toBe(ok.replace(`"${rspauth}"`, '"<redacted>"'));
    expect(rows[2]!.raw).toBe(plain);
    expectNoSecret(fileBytes(file), 'the migrated SQLite files');
    expect(store.integrityCheck()).toBe('ok');
    store.close();
    expectNoSecret(fileBytes(file), 'the migrated file once closed');
  });

  it('a message an older Veilphone writes into an upgraded file is still masked when read', () => {
    const file = tempFile();
    const store = CallLogStore.open(file, { retentionIntervalMs: 0 });
    store.startCall(call);
    store.flush(); // the row is in the file before the other writer comes
    const older = new Database(file);
    older.prepare("INSERT INTO messages (call_id, seq, dir, at, transport, local, remote, raw) VALUES ('c1', 0, 'out', 1, 'udp', '127.0.0.1:5062', '127.0.0.1:5060', ?)").run(invite());
    older.close();
    expectNoSecret(JSON.stringify(store.getCall('c1')), 'the call detail');
    store.close();
  });
});

describe('call log file modes (issue 17)', () => {
  const mode = (file: string): string => (fs.statSync(file).mode & 0o777).toString(8);

  it('creates the log, its WAL and shared-memory files 0600 under umask 022, and tightens ones an earlier run left 0644', () => {
    const previous = process.umask(0o022);
    try {
      const file = path.join(tempFile(), '..', 'new', 'calllog.sqlite');
      const store = CallLogStore.open(file, { retentionIntervalMs: 0 });
      store.startCall(call);
      store.appendMessage('c1', entry('out', invite()));
      store.flush();
      expect([mode(path.dirname(file)), mode(file), mode(`${file}-wal`), mode(`${file}-shm`)]).toEqual(['700', '600', '600', '600']);

      // An earlier version's files, and a WAL and SHM a crash left behind, all 0644.
      const viewer = new Database(file); // keeps the WAL and SHM in place while the store is reopened
      viewer.prepare('SELECT COUNT(*) FROM messages').get();
      store.close();
      for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.chmodSync(f, 0o644);
      const reopened = CallLogStore.open(file, { retentionIntervalMs: 0 });
      reopened.appendMessage('c1', entry('in', ok));
      reopened.flush();
      expect([mode(file), mode(`${file}-wal`), mode(`${file}-shm`)]).toEqual(['600', '600', '600']);
      viewer.close();
      reopened.close();
    } finally {
      process.umask(previous);
    }
  });
});
