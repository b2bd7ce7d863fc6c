import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SipTapEntry } from '../sip/transport/message-tap.js';
import { AgentTrace } from './agent-trace.js';

const entry = (n: number, raw = `OPTIONS sip:${n}@x SIP/2.0\r\nSubject: ü€😀\r\n\r\n`): SipTapEntry => ({ dir: 'in', at: n, transport: 'udp', local: '127.0.0.1:5060', remote: '127.0.0.1:5070', raw });

describe('an agent trace', () => {
  const dirs: string[] = [];
  const traces: AgentTrace[] = [];
  afterEach(() => {
    for (const trace of traces.splice(0)) trace.close();
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  const make = (limit: number): { trace: AgentTrace; dir: string } => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-trace-'));
    dirs.push(dir);
    const trace = new AgentTrace(limit, dir);
    traces.push(trace);
    return { trace, dir };
  };

  it('keeps every message up to its limit, then drops the oldest quarter and keeps the newest in order, byte for byte', () => {
    const { trace } = make(100);
    let dropped = 0;
    for (let n = 1; n <= 100; n++) dropped += trace.append(entry(n));
    expect(trace).toHaveLength(100);
    expect(dropped).toBe(0);
    expect([...trace][41]).toEqual(entry(42));
    dropped += trace.append(entry(101));
    expect(dropped).toBe(25);
    expect(trace.dropped).toBe(25);
    expect([...trace].map((e) => e.at)).toEqual(Array.from({ length: 76 }, (_, i) => 26 + i));
  });

  it('stays bounded over a long run: never more than its limit, and the newest message is always the last', () => {
    const { trace } = make(1000);
    for (let n = 1; n <= 20_000; n++) {
      trace.append(entry(n));
      expect(trace.length).toBeLessThanOrEqual(1000);
    }
    const kept = [...trace];
    expect(kept.at(-1)!.at).toBe(20_000);
    expect(trace.dropped + kept.length).toBe(20_000);
  });

  it('holds its messages in files that have no name: nothing is left on disk, even if the process dies', () => {
    const { trace, dir } = make(100);
    for (let n = 1; n <= 250; n++) trace.append(entry(n, `INVITE sip:bob@x SIP/2.0\r\nFrom: "Alice" <sip:alice@x>\r\n\r\n${'v=0\r\n'.repeat(n % 7)}`));
    expect(fs.readdirSync(dir)).toEqual([]);
    expect([...trace].every((e) => e.raw.includes('"Alice"'))).toBe(true);
  });

  it('reads a message longer than its read chunk, and one whose multi-byte characters straddle a chunk', () => {
    const { trace } = make(10);
    const long = `MESSAGE sip:x SIP/2.0\r\n\r\n${'é'.repeat(700_000)}😀`;
    trace.append(entry(1, long));
    trace.append(entry(2));
    expect([...trace].map((e) => e.raw)).toEqual([long, entry(2).raw]);
  });

  it('never throws when it cannot keep a message (it runs before the message is sent or handled): it counts it as dropped', () => {
    const trace = new AgentTrace(100, path.join(os.tmpdir(), 'vp-no-such-directory', 'deeper'));
    traces.push(trace);
    expect(trace.append(entry(1))).toBe(1);
    expect(trace.append(entry(2))).toBe(1);
    expect(trace.dropped).toBe(2);
    expect([...trace]).toEqual([]);
  });

  it('is read again after more messages came (a check reads while the run goes on)', () => {
    const { trace } = make(100);
    trace.append(entry(1));
    expect([...trace]).toHaveLength(1);
    trace.append(entry(2));
    expect([...trace].map((e) => e.at)).toEqual([1, 2]);
  });
});
