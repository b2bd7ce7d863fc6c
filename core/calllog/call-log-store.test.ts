import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SipTapEntry } from '../sip/transport/message-tap.js';
import { CallLogStore } from './call-log-store.js';

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
    expect(() => store.updateCall('nope', { status: 1 })).toThrowError(expect.objectContaining({ code: 'UNKNOWN_CALL' }));
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
});
