import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallResult } from '../api/call-log-types.js';
import type { SipTapEntry } from '../sip/transport/message-tap.js';
import { buildCallQuery } from './call-log-query.js';
import { until } from '../../test/support/until.js';
import { CallLogStore, type CallStart } from './call-log-store.js';

const dirs: string[] = [];
function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-calllog-'));
  dirs.push(dir);
  return path.join(dir, 'calls.sqlite');
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function entry(dir: 'in' | 'out', raw: string, at = Date.now()): SipTapEntry {
  return { dir, at, transport: 'udp', local: '127.0.0.1:5070', remote: '127.0.0.1:5060', raw };
}

describe('CallLogStore', () => {
  it('stores a call with its ordered trace and final status', () => {
    const store = CallLogStore.open(tempFile());
    store.startCall({ id: 'c1', accountId: 'alice', direction: 'outgoing', sipCallId: 'abc', remoteShown: 'bob', remoteUri: 'sip:bob@x', remoteUser: 'bob', remoteAnonymous: false, startedAt: 1000 });
    store.appendMessage('c1', entry('out', 'INVITE sip:bob@x SIP/2.0'));
    store.appendMessage('c1', entry('in', 'SIP/2.0 200 OK'));
    store.updateCall('c1', { answeredAt: 1500, status: 200 });
    store.appendMessage('c1', entry('out', 'BYE sip:bob@x SIP/2.0'));
    store.updateCall('c1', { endedAt: 4500, endedBy: 'local', result: 'answered' });
    const call = store.getCall('c1')!;
    expect(call).toMatchObject({ status: 200, result: 'answered', durationMs: 3000, endedBy: 'local', remoteAnonymous: false });
    expect(call.messages.map((m) => [m.seq, m.raw.split(' ')[0]])).toEqual([
      [0, 'INVITE'],
      [1, 'SIP/2.0'],
      [2, 'BYE'],
    ]);
    const failures: string[] = [];
    store.updateCall('nope', { status: 1 }, (error) => failures.push(error.code));
    store.flush();
    expect(failures).toEqual(['UNKNOWN_CALL']);
    store.close();
  });

  it("keeps another party's words as they are shown (network-words.ts): what the history shows, a search finds", () => {
    const store = CallLogStore.open(tempFile());
    store.startCall({ id: 'c1', accountId: 'alice', direction: 'incoming', sipCallId: 'o', remoteShown: '\u202EYour Ba\u200Bnk\x1b[2J', remoteUri: 'sip:eve@x', remoteUser: 'eve', remoteAnonymous: false, startedAt: 1000 });
    store.updateCall('c1', { status: 486, reason: 'Busy\u200B\u202E Here', redirects: [{ status: 302, reason: 'Moved\u202E', target: 'sip:bob@x' }], endedAt: 2000, result: 'busy' });
    store.flush();
    expect(store.getCall('c1')).toMatchObject({ remoteShown: 'Your Bank[2J', reason: 'Busy Here', redirects: [{ status: 302, reason: 'Moved', target: 'sip:bob@x' }], remoteUser: 'eve' });
    expect(store.listCalls({ number: 'Bank' }).calls.map((c) => c.id)).toEqual(['c1']);
    store.close();
  });

  it('writes after the caller has moved on: an idle log commits the turn after, seen by another reader only then', async () => {
    const file = tempFile();
    const store = CallLogStore.open(file, { retentionIntervalMs: 0 });
    const reader = new Database(file, { readonly: true });
    const row = () => reader.prepare('SELECT result, status FROM calls WHERE id = ?').get('c1') as { result: string; status: number | null } | undefined;
    const walFrames = () => fs.statSync(`${file}-wal`).size;
    try {
      const walBefore = walFrames();
      store.startCall(base('c1', 1));
      store.appendMessage('c1', entry('out', 'INVITE a'));
      store.updateCall('c1', { status: 180 });
      store.appendMessage('c1', entry('in', 'SIP/2.0 200 OK'));
      store.updateCall('c1', { status: 200, result: 'answered' });
      // nothing on the signalling path: the caller (the phone emitting its event) comes first
      expect(row()).toBeUndefined();
      expect(walFrames()).toBe(walBefore);
      await new Promise((resolve) => setImmediate(resolve));
      expect(row()).toEqual({ result: 'answered', status: 200 });
      expect((reader.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n).toBe(2);
    } finally {
      reader.close();
      store.close();
    }
  });

  it('under load gathers the writes of many turns into one commit: within coalesceMs of a commit, the next one waits', async () => {
    const file = tempFile();
    const store = CallLogStore.open(file, { retentionIntervalMs: 0, coalesceMs: 300 });
    const reader = new Database(file, { readonly: true });
    const calls = () => (reader.prepare('SELECT COUNT(*) AS n FROM calls').get() as { n: number }).n;
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    try {
      store.startCall(base('c1', 1)); // an idle log: committed the turn after
      await turn();
      expect(calls()).toBe(1);
      expect(store.commits).toBe(1);
      for (let i = 2; i <= 6; i++) {
        store.startCall(base(`c${i}`, i)); // five turns right after that commit: they wait for its window to end
        await turn();
      }
      expect(calls()).toBe(1);
      await until(() => calls() === 6 || undefined, 5000);
      expect(store.commits).toBe(2); // all five in one
      store.startCall(base('c7', 7));
      store.flush(); // an explicit flush does not wait
      expect(calls()).toBe(7);
    } finally {
      reader.close();
      store.close();
    }
  });

  it('commits the rest of a turn\'s writes when one of them fails, and tells that one\'s owner', () => {
    const errors: string[] = [];
    const store = CallLogStore.open(':memory:', { onError: (error) => errors.push(`background ${error.code}`) });
    const told: string[] = [];
    store.startCall(base('a', 1));
    store.startCall(base('a', 2), (error) => told.push(`duplicate: ${error.code}`));
    store.updateCall('missing', { status: 486 }, (error) => told.push(`missing: ${error.code}`));
    store.updateCall('also-missing', { status: 486 });
    store.updateCall('a', { status: 200, result: 'answered' });
    store.startCall(base('b', 3));
    store.flush();
    expect(told).toEqual(['duplicate: WRITE_FAILED', 'missing: UNKNOWN_CALL']);
    expect(errors).toEqual(['background UNKNOWN_CALL']);
    expect(store.listCalls().calls.map((c) => [c.id, c.result, c.startedAt])).toEqual([
      ['b', 'in-progress', 3],
      ['a', 'answered', 1],
    ]);
    store.close();
  });

  it('makes a batch all or nothing: one failed write rolls back the others', () => {
    const store = CallLogStore.open(':memory:');
    store.startCall(base('kept', 1));
    expect(() =>
      store.batch(() => {
        store.startCall(base('x', 2));
        store.updateCall('nope', { status: 200 });
        store.startCall(base('y', 3));
      }),
    ).toThrowError(expect.objectContaining({ code: 'UNKNOWN_CALL' }));
    expect(store.listCalls().calls.map((c) => c.id)).toEqual(['kept']);
    store.close();
  });

  it('writes what is still queued when the process exits before the next turn', async () => {
    const file = tempFile();
    const script = `
      import { CallLogStore } from ${JSON.stringify(path.resolve(import.meta.dirname, 'call-log-store.ts'))};
      const store = CallLogStore.open(${JSON.stringify(file)});
      store.startCall({ id: 'last', accountId: 'a', direction: 'outgoing', sipCallId: 'last', remoteShown: 'b', remoteUri: 'sip:b@x', remoteAnonymous: false, startedAt: 7 });
      store.appendMessage('last', { dir: 'out', at: 7, transport: 'udp', local: 'l', remote: 'r', raw: 'BYE sip:b@x SIP/2.0' });
      store.updateCall('last', { result: 'answered', endedAt: 8 });
      process.exit(0);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'inherit'] });
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
    const store = CallLogStore.open(file);
    expect(store.getCall('last')).toMatchObject({ result: 'answered', endedAt: 8, messages: [{ raw: 'BYE sip:b@x SIP/2.0' }] });
    store.close();
  });

  it('filters by number, Call-ID, result, direction and anonymity, newest first, with paging', () => {
    const store = CallLogStore.open(':memory:');
    for (let i = 0; i < 25; i++) {
      store.startCall({ id: `c${String(i).padStart(2, '0')}`, accountId: 'a', direction: i % 2 ? 'incoming' : 'outgoing', sipCallId: `cid-${i}`, remoteShown: i % 5 === 0 ? 'Anonymous' : `user${i}`, remoteUri: `sip:user${i}@x`, remoteUser: `user${i}`, remoteAnonymous: i % 5 === 0, startedAt: 1000 + i, anonymity: i % 3 === 0 ? 'header' : 'none' });
      store.updateCall(`c${String(i).padStart(2, '0')}`, { result: i % 4 === 0 ? 'missed' : 'answered' });
    }
    expect(store.listCalls({ number: 'user1' }).calls.map((c) => c.id)).toEqual(['c19', 'c18', 'c17', 'c16', 'c15', 'c14', 'c13', 'c12', 'c11', 'c10', 'c01']);
    expect(store.listCalls({ sipCallId: 'cid-7' }).calls.map((c) => c.id)).toEqual(['c07']);
    expect(store.listCalls({ result: 'missed', direction: 'outgoing' }).calls.map((c) => c.id)).toEqual(['c24', 'c20', 'c16', 'c12', 'c08', 'c04', 'c00']);
    expect(store.listCalls({ anonymous: true }).calls.every((c) => c.remoteAnonymous || c.anonymity === 'header')).toBe(true);
    const first = store.listCalls({ limit: 10 });
    const second = store.listCalls({ limit: 10, before: first.next! });
    const third = store.listCalls({ limit: 10, before: second.next! });
    expect([...first.calls, ...second.calls, ...third.calls].map((c) => c.id)).toHaveLength(25);
    expect(third.next).toBeUndefined();
    expect(store.listCalls({ number: '%' }).calls).toHaveLength(0);
  });

  it('loses no committed call when the process is killed, and marks the open one interrupted', async () => {
    const file = tempFile();
    const script = `
      import { CallLogStore } from ${JSON.stringify(path.resolve(import.meta.dirname, 'call-log-store.ts'))};
      const store = CallLogStore.open(${JSON.stringify(file)});
      for (let i = 0; i < 50; i++) {
        const id = 'done-' + i;
        store.startCall({ id, accountId: 'a', direction: 'outgoing', sipCallId: id, remoteShown: 'b', remoteUri: 'sip:b@x', remoteAnonymous: false, startedAt: i });
        store.appendMessage(id, { dir: 'out', at: i, transport: 'udp', local: 'l', remote: 'r', raw: 'INVITE ' + i });
        store.flush();
        store.updateCall(id, { result: 'answered', endedAt: i + 1 });
      }
      store.startCall({ id: 'open', accountId: 'a', direction: 'incoming', sipCallId: 'open', remoteShown: 'b', remoteUri: 'sip:b@x', remoteAnonymous: false, startedAt: 99 });
      store.flush(); // committed: what the kill may not take away
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const store = CallLogStore.open(file);
    expect(store.integrityCheck()).toBe('ok');
    const all = store.listCalls({ limit: 100 }).calls;
    expect(all.filter((c) => c.result === 'answered')).toHaveLength(50);
    expect(store.getCall('done-49')!.messages.map((m) => m.raw)).toEqual(['INVITE 49']);
    expect(store.getCall('open')!.result).toBe('interrupted');
    store.close();
  });

  it('filters by time range, several results, SIP status and the number really sent', () => {
    const store = CallLogStore.open(':memory:');
    const results: CallResult[] = ['answered', 'busy', 'failed', 'missed'];
    for (let i = 0; i < 20; i++) {
      store.startCall({ ...base(`c${String(i).padStart(2, '0')}`, 1000 * i), sentRequestUri: `sip:184031234${String(i).padStart(4, '0')}@lab`, dialed: `184 031234${String(i).padStart(4, '0')}` });
      store.updateCall(`c${String(i).padStart(2, '0')}`, { result: results[i % 4]!, status: [200, 486, 503, 487][i % 4]! });
    }
    expect(store.listCalls({ since: 5000, until: 8000 }).calls.map((c) => c.id)).toEqual(['c08', 'c07', 'c06', 'c05']);
    expect(store.listCalls({ result: ['busy', 'failed'], until: 7000 }).calls.map((c) => c.id)).toEqual(['c06', 'c05', 'c02', 'c01']);
    expect(store.listCalls({ status: 503 }).calls.map((c) => c.id)).toEqual(['c18', 'c14', 'c10', 'c06', 'c02']);
    expect(store.listCalls({ number: '1840312340017' }).calls.map((c) => c.id)).toEqual(['c17']); // as sent, with the 184 prefix
    expect(store.listCalls({ number: '17' }).calls.map((c) => c.id)).toEqual(['c17']); // two characters: LIKE, same answer
    expect(store.listCalls({ number: '"; DROP TABLE calls; --' }).calls).toEqual([]);
    expect(store.countCalls()).toBe(20);
    store.close();
  });

  it('answers a number search the same whether it uses the trigram index or scans in time order', () => {
    const file = tempFile();
    const store = CallLogStore.open(file);
    const words = ['alice', 'Bob', 'carol', '0312345678', '09012345678', 'sip:x@lab.invalid', 'Anonymous', '山田太郎'];
    let seed = 7;
    const random = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    store.batch(() => {
      for (let i = 0; i < 400; i++) {
        const who = `${words[random(words.length)]}${random(3) === 0 ? random(100) : ''}`;
        store.startCall({ ...base(`c${i}`, i), remoteShown: who, remoteUri: `sip:${who}@lab.invalid`, remoteUser: who, ...(random(2) ? { dialed: `184${random(100000)}` } : {}) });
      }
    });
    const db = new Database(file, { readonly: true });
    const run = (needle: string, strategy: 'index' | 'scan'): string[] => {
      const query = buildCallQuery({ number: needle, limit: 1000 }, strategy);
      return (db.prepare(query.sql).all(...query.args) as Array<{ id: string }>).map((r) => r.id);
    };
    for (const needle of ['ali', 'ALICE', 'bob1', '123', '345678', 'lab.inv', 'ous', '山田', '太郎', 'zzz', '1845', 'sip:x@']) {
      expect(run(needle, 'index'), needle).toEqual(run(needle, 'scan'));
      expect(store.listCalls({ number: needle, limit: 1000 }).calls.map((c) => c.id), needle).toEqual(run(needle, 'scan'));
    }
    db.close();
    store.close();
  });

  it('keeps N days or N calls: applied when set, on open and periodically, never to a call in progress', async () => {
    const file = tempFile();
    const day = 86_400_000;
    const now = Date.now();
    const store = CallLogStore.open(file, { retentionIntervalMs: 0 });
    for (let i = 0; i < 10; i++) {
      store.startCall(base(`c${i}`, now - (10 - i) * day + 3_600_000));
      store.appendMessage(`c${i}`, entry('out', `INVITE ${i}`));
      if (i !== 0) store.updateCall(`c${i}`, { result: 'answered' }); // c0 stays in progress
    }
    store.flush();
    expect(store.setRetention({ maxAgeDays: 5 })).toBe(4); // c1-c4; c0 is in progress
    expect(store.listCalls({ limit: 100 }).calls.map((c) => c.id)).toEqual(['c9', 'c8', 'c7', 'c6', 'c5', 'c0']);
    expect(store.getCall('c1')).toBeUndefined();
    expect(() => store.setRetention({ maxCalls: 0 })).toThrowError(expect.objectContaining({ code: 'INVALID_RETENTION' }));
    expect(() => store.setRetention({ maxAgeDays: 1.5 })).toThrowError(expect.objectContaining({ code: 'INVALID_RETENTION' }));
    store.close();

    // Saved in the file: the next open applies it (to calls another process added meanwhile).
    const other = new Database(file);
    other.prepare("INSERT INTO calls (id, account_id, direction, sip_call_id, remote_shown, remote_uri, started_at, result) VALUES ('old', 'a', 'outgoing', 'x', 'b', 'sip:b@x', ?, 'answered')").run(now - 30 * day);
    other.close();
    const reopened = CallLogStore.open(file, { retentionIntervalMs: 0 });
    expect(reopened.retention()).toEqual({ maxAgeDays: 5 });
    expect(reopened.getCall('old')).toBeUndefined();
    expect(reopened.setRetention({ maxCalls: 3 })).toBe(2); // keep the three newest; c0 (in progress) is kept besides
    expect(reopened.listCalls().calls.map((c) => c.id)).toEqual(['c9', 'c8', 'c7', 'c0']);
    expect(reopened.setRetention({})).toBe(0);
    expect(reopened.retention()).toEqual({});
    expect(new Database(file, { readonly: true }).prepare('SELECT COUNT(*) AS n FROM messages').get()).toEqual({ n: 4 }); // messages went with their calls
    reopened.close();

    // Periodically: a policy given at open runs on its timer.
    const periodic = CallLogStore.open(file, { retention: { maxCalls: 1 }, retentionIntervalMs: 20 });
    periodic.startCall(base('fresh', now));
    periodic.updateCall('fresh', { result: 'answered' });
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(periodic.listCalls().calls.map((c) => c.id)).toEqual(['fresh', 'c0']);
    periodic.close();
  });

  it('drops and counts messages for calls the log does not hold, without losing the rest of the batch', () => {
    const store = CallLogStore.open(':memory:');
    store.startCall(base('known', 1));
    store.appendMessage('gone', entry('in', 'SIP/2.0 200 OK'));
    store.appendMessage('known', entry('out', 'INVITE a'));
    store.appendMessage('gone', entry('in', 'SIP/2.0 200 OK'));
    store.appendMessage('known', entry('out', 'ACK a'));
    store.flush();
    expect(store.droppedMessages).toBe(2);
    expect(store.getCall('known')!.messages.map((m) => [m.seq, m.raw])).toEqual([
      [0, 'INVITE a'],
      [1, 'ACK a'],
    ]);
    store.close();
  });

  it('leaves the calls of a phone that still runs alone, and marks them interrupted once it is gone', async () => {
    const file = tempFile();
    const script = `
      import { CallLogStore } from ${JSON.stringify(path.resolve(import.meta.dirname, 'call-log-store.ts'))};
      const store = CallLogStore.open(${JSON.stringify(file)});
      store.startCall({ id: 'live', accountId: 'a', direction: 'outgoing', sipCallId: 'live', remoteShown: 'b', remoteUri: 'sip:b@x', remoteAnonymous: false, startedAt: 5 });
      store.flush();
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
      });
      const viewer = CallLogStore.open(file); // e.g. \`veilphone logs list\` while the phone is in a call
      expect(viewer.getCall('live')!.result).toBe('in-progress');
      viewer.close();
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((resolve) => child.once('exit', resolve));
    const after = CallLogStore.open(file);
    expect(after.getCall('live')!.result).toBe('interrupted');
    after.close();
  });
});

function base(id: string, startedAt: number): CallStart {
  return { id, accountId: 'a', direction: 'outgoing', sipCallId: `sip-${id}`, remoteShown: 'b', remoteUri: 'sip:b@x', remoteAnonymous: false, startedAt };
}
