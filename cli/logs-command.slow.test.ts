import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallLogEntry } from '../core/api/call-log-types.js';
import { CallLogStore } from '../core/calllog/call-log-store.js';
import { migrateCallLog } from '../core/calllog/migrate.js';
import { migrations } from '../core/calllog/schema.js';
import { callLogPath } from '../core/phone/data-dir.js';
import { veilphone } from '../test/support/veilphone-cli.js';

const minute = 60_000;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-logs-cli-'));
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

const invite = (to: string): string => `INVITE sip:${to}@lab SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`;
const busyHere = 'SIP/2.0 486 Busy Here\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n';

/** Six calls over the last hours (ids 00000001-… so prefixes are unique), straight into the log. */
beforeAll(() => {
  const now = Date.now();
  const store = CallLogStore.open(callLogPath(dataDir), { retentionIntervalMs: 0 });
  const calls: Array<Partial<CallLogEntry> & { id: string; startedAt: number }> = [
    { id: '00000001-old', startedAt: now - 5 * 60 * minute, remoteShown: 'Bob', remoteUser: '0312345678', result: 'answered', status: 200, answeredAt: now - 5 * 60 * minute + 1000, endedAt: now - 5 * 60 * minute + 66_000 },
    { id: '00000002-busy', startedAt: now - 90 * minute, remoteShown: 'Carol', remoteUser: 'carol', result: 'busy', status: 486, reason: 'Busy Here' },
    { id: '00000003-fail', startedAt: now - 60 * minute, remoteShown: '0312999999', remoteUser: '0312999999', result: 'failed', status: 503 },
    { id: '00000004-anon', startedAt: now - 30 * minute, remoteShown: 'Dave', remoteUser: '0312000111', anonymity: 'prefix', dialed: '184 0312000111', sentRequestUri: 'sip:1840312000111@lab', result: 'answered', status: 200 },
    { id: '00000005-in', startedAt: now - 10 * minute, remoteShown: 'Anonymous', remoteUser: 'anonymous', remoteAnonymous: true, direction: 'incoming', result: 'missed' },
    { id: '00000006-new', startedAt: now - 1 * minute, remoteShown: 'Erin', remoteUser: '0312345679', result: 'busy', status: 486, localRtp: '127.0.0.1:16384', remoteRtp: '127.0.0.1:16500', localSip: '127.0.0.1:40000', transport: 'udp', remoteSip: '127.0.0.1:5060' },
  ];
  for (const { id, startedAt, remoteShown, remoteUser, remoteAnonymous, direction, result, ...rest } of calls) {
    store.startCall({ id, accountId: 'alice', direction: direction ?? 'outgoing', sipCallId: `sip-${id}`, remoteShown: remoteShown!, remoteUri: `sip:${remoteUser}@lab`, remoteUser: remoteUser!, remoteAnonymous: remoteAnonymous ?? false, startedAt });
    store.appendMessage(id, { dir: 'out', at: startedAt, transport: 'udp', local: '127.0.0.1:40000', remote: '127.0.0.1:5060', raw: invite(remoteUser!) });
    if (result === 'busy') store.appendMessage(id, { dir: 'in', at: startedAt + 12, transport: 'udp', local: '127.0.0.1:40000', remote: '127.0.0.1:5060', raw: busyHere });
    store.updateCall(id, { result: result!, ...rest });
  }
  // what a stranger's name looks like in the trace: a right-to-left override and a zero-width space, as they came
  store.appendMessage('00000006-new', { dir: 'in', at: Date.now(), transport: 'udp', local: '127.0.0.1:40000', remote: '127.0.0.1:5060', raw: 'OPTIONS sip:alice@lab SIP/2.0\r\nFrom: "\u202Egpj.exe Ba\u200Bnk" <sip:eve@lab>;tag=9\r\nCSeq: 1 OPTIONS\r\n\r\n' });
  store.close();
});

async function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = veilphone(['logs', ...args], { dataDir });
  const code = await child.exitCode(60_000);
  return { code, stdout: child.stdout, stderr: child.stderr };
}
const ids = (stdout: string): string[] => (JSON.parse(stdout) as CallLogEntry[]).map((c) => c.id);

// Each command is a fresh `veilphone` process (about 1.5 s of CPU to start), so the tests get room on a busy machine.
describe('veilphone logs (list, show, export, retention) on a seeded call log', { timeout: 120_000 }, () => {
  it('lists with the filters of the history view, newest first, and pages with --before', async () => {
    const [byNumber, results, recent, anonymous, page] = await Promise.all([
      run(['list', '--json', '--number', '0312']),
      run(['list', '--json', '--result', 'busy,failed', '--since', '2h']),
      run(['list', '--json', '--since', '45m', '--direction', 'outgoing']),
      run(['list', '--json', '--anonymous', '--until', 'now']),
      run(['list', '--limit', '4']),
    ]);
    expect(ids(byNumber.stdout)).toEqual(['00000006-new', '00000004-anon', '00000003-fail', '00000001-old']);
    expect(ids(results.stdout)).toEqual(['00000006-new', '00000003-fail', '00000002-busy']);
    expect(ids(recent.stdout)).toEqual(['00000006-new', '00000004-anon']);
    expect(ids(anonymous.stdout)).toEqual(['00000005-in', '00000004-anon']);
    expect(page.stdout.trim().split('\n')).toHaveLength(5);
    const hint = /add --before (\S+)/.exec(page.stdout)![1]!;
    expect(hint).toBe('00000003-fail');
    const [rest, sent] = await Promise.all([run(['list', '--json', '--before', hint]), run(['list', '--json', '--number', '1840312000111', '--status', '200'])]);
    expect(ids(rest.stdout)).toEqual(['00000002-busy', '00000001-old']);
    expect(ids(sent.stdout)).toEqual(['00000004-anon']); // the number as really sent, with its 184 prefix
  });

  it('shows a call: its facts, the ladder, and with --raw every message', async () => {
    const show = await run(['show', '00000006', '--raw']);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/^RTP local\s+127\.0\.0\.1:16384$/m);
    expect(show.stdout).toMatch(/^SIP socket\s+127\.0\.0\.1:40000 \(UDP\)$/m);
    expect(show.stdout).toMatch(/^result\s+busy \(486\)$/m);
    expect(show.stdout).toContain('486 Busy Here (INVITE)');
    expect(show.stdout).toMatch(/^--- #1 \+0\.012s .* UDP 127\.0\.0\.1:5060 -> 127\.0\.0\.1:40000$/m);
    expect(show.stdout).toContain('SIP/2.0 486 Busy Here\nCall-ID: x');
    expect(show.stdout).toContain('From: "⟨U+202E⟩gpj.exe Ba⟨U+200B⟩nk" <sip:eve@lab>;tag=9'); // nothing hidden, nothing reordered
  });

  it('exports to JSON and pcap files', async () => {
    const json = path.join(dataDir, 'out', 'two.json');
    const pcap = path.join(dataDir, 'out', 'two.pcap');
    fs.mkdirSync(path.dirname(pcap), { mode: 0o700 }); // an export goes into a directory that exists
    const exported = await run(['export', '00000006', 'sip-00000002-busy', '--json', json, '--pcap', pcap]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain('exported 2 call(s), 5 message(s)');
    expect((JSON.parse(fs.readFileSync(json, 'utf8')) as { calls: CallLogEntry[] }).calls.map((c) => c.id)).toEqual(['00000006-new', '00000002-busy']);
    expect(fs.readFileSync(pcap).readUInt32LE(0)).toBe(0xa1b2c3d4);
  });

  it('refuses bad input with a code and the exit code of its class', async () => {
    const outcomes = await Promise.all([
      run(['show', 'no-such-call']),
      run(['show', '0000000']),
      run(['list', '--result', 'exploded']),
      run(['list', '--status', '99']),
      run(['list', '--since', '1h', '--until', '2h']),
      run(['export', '00000006']),
      run(['retention', '--keep-days', '0']),
      run(['retention', '--keep-all', '--keep-calls', '5']),
      run(['retention', '--keep-days', '-1']),
      run(['retention', '--keep-days', '99999999999']),
      run(['export', '00000006', '--json', path.join(os.tmpdir(), `vp-no-such-dir-${process.pid}`, 'x.json')]),
    ]);
    expect(outcomes.map((o) => [o.code, /\[([A-Z_]+)\]/.exec(o.stderr)?.[1]])).toEqual([
      [1, 'UNKNOWN_CALL'],
      [2, 'AMBIGUOUS_CALL'],
      [2, 'INVALID_ARGUMENT'],
      [2, 'INVALID_ARGUMENT'],
      [2, 'INVALID_TIME'],
      [2, 'INVALID_ARGUMENT'],
      [2, 'INVALID_RETENTION'],
      [2, 'INVALID_RETENTION'],
      [2, 'INVALID_RETENTION'],
      [2, 'INVALID_RETENTION'],
      [3, 'WRITE_FAILED'],
    ]);
    // the range is named; a mistyped export path makes no directory (helper 74)
    expect(outcomes[9]!.stderr).toMatch(/--keep-days must be a whole number from 1 to 36500, got "99999999999"/);
    expect(fs.existsSync(path.join(os.tmpdir(), `vp-no-such-dir-${process.pid}`))).toBe(false);
  });

  it('sets retention: keeps the newest N calls and says what it keeps', async () => {
    const set = await run(['retention', '--keep-calls', '4']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('removed 2 call(s)');
    expect(set.stdout).toContain('keeping the newest 4 calls; 4 call(s) in the log');
    expect(ids((await run(['list', '--json'])).stdout)).toEqual(['00000006-new', '00000005-in', '00000004-anon', '00000003-fail']);
  });
});

describe('veilphone logs on a data dir from before issue 17', { timeout: 120_000 }, () => {
  const response = '6629fae49393a05397450978507c4ef1';
  const sdesKey = 'WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzcyAoHAI';
  const sdp = `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 16384 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${sdesKey}\r\n`;
  const challenged = [
    'INVITE sip:bob@lab SIP/2.0',
    'Call-ID: old-call',
    'CSeq: 2 INVITE',
    `Proxy-Authorization: Digest username="alice", realm="lab", nonce="4f1a9c", uri="sip:bob@lab", response="${response}", qop=auth, nc=00000001, cnonce="0a4f"`,
    'Content-Type: application/sdp',
    `Content-Length: ${sdp.length}`,
    '',
    sdp,
  ].join('\r\n');
  const mode = (file: string): string => (fs.statSync(file).mode & 0o777).toString(8);

  it('shows and exports it with no digest response or SDES key, and makes the dir 0700 and its files 0600 (umask 022)', async () => {
    const previous = process.umask(0o022); // the commands below inherit it
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vp-logs-old-')), 'data');
    try {
      fs.mkdirSync(dir, { mode: 0o755 });
      const file = callLogPath(dir);
      const db = new Database(file);
      db.pragma('journal_mode = WAL');
      migrateCallLog(db, migrations.slice(0, 2)); // as the release before this change wrote it
      db.prepare("INSERT INTO calls (id, account_id, direction, sip_call_id, remote_shown, remote_uri, started_at, result) VALUES ('0000000a-old', 'alice', 'outgoing', 'old-call', 'bob', 'sip:bob@lab', 1, 'answered')").run();
      db.prepare("INSERT INTO messages (call_id, seq, dir, at, transport, local, remote, raw) VALUES ('0000000a-old', 0, 'out', 1, 'udp', '127.0.0.1:40000', '127.0.0.1:5060', ?)").run(challenged);
      db.close();
      const ours = ['settings.json', 'lease.json', 'ownership.jsonl', 'settings.json.4242.tmp'];
      for (const name of ours) fs.writeFileSync(path.join(dir, name), '{}\n');
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'not ours\n');
      fs.writeFileSync(path.join(dir, 'tool.sh'), '#!/bin/sh\n', { mode: 0o755 });
      expect([mode(dir), mode(file), mode(path.join(dir, 'settings.json'))]).toEqual(['755', '644', '644']);

      const json = path.join(dir, 'export', 'old.json');
      const pcap = path.join(dir, 'export', 'old.pcap');
      fs.mkdirSync(path.dirname(pcap), { mode: 0o700 });
      const outcomes = await Promise.all(
        [['show', 'old-call', '--raw'], ['show', 'old-call', '--json'], ['export', 'old-call', '--json', json, '--pcap', pcap]].map(async (args) => {
          const child = veilphone(['logs', ...args], { dataDir: dir });
          return { code: await child.exitCode(60_000), stdout: child.stdout, stderr: child.stderr };
        }),
      );
      for (const outcome of outcomes) expect(outcome.code, outcome.stderr).toBe(0);
      const [raw, asJson] = outcomes;
      expect(raw!.stdout).toContain('response="<redacted>", qop=auth');
      expect(raw!.stdout).toContain('username="alice", realm="lab", nonce="4f1a9c", uri="sip:bob@lab"');
      const everything = [raw!.stdout, asJson!.stdout, fs.readFileSync(json, 'utf8'), fs.readFileSync(pcap).toString('latin1')];
      for (const file2 of [file, `${file}-wal`]) if (fs.existsSync(file2)) everything.push(fs.readFileSync(file2).toString('latin1'));
      for (const text of everything) {
        expect(text).not.toContain(response);
        expect(text).not.toContain(sdesKey);
      }

      expect(mode(dir)).toBe('700');
      for (const name of ['calllog.sqlite', ...ours]) expect(mode(path.join(dir, name)), name).toBe('600');
      expect([mode(json), mode(pcap)]).toEqual(['600', '600']);
      expect([mode(path.join(dir, 'notes.txt')), mode(path.join(dir, 'tool.sh'))]).toEqual(['644', '755']); // not Veilphone's
    } finally {
      process.umask(previous);
      fs.rmSync(path.dirname(dir), { recursive: true, force: true });
    }
  });
});

