import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentTrace } from '../core/scenario/agent-trace.js';
import { jsonPieces, writeJsonFile } from './report-file.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the JSON report written piece by piece', () => {
  const report = {
    ok: true,
    name: 'a "quoted" name\nover two lines',
    skipped: undefined,
    steps: [{ index: 0, step: 'register: alice', ok: true, ms: 3 }, { index: 1, step: 'load', ok: false, ms: 1.5, reason: 'ünïcode' }],
    calls: [],
    agents: { alice: { trace: [{ dir: 'in', at: 1, raw: 'INVITE sip:bob@lab SIP/2.0\r\n\r\n' }], registration: {} } },
    loads: [{ statuses: { '200': 3, none: 1 }, setupMs: null, list: [1, undefined, 'x'] }],
    when: new Date(0),
  };

  it('is the same text JSON.stringify(value, null, 2) gives', () => {
    expect([...jsonPieces(report, '')].join('')).toBe(JSON.stringify(report, null, 2));
  });

  it('writes a file bigger than one chunk, equal to the whole text', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'report-file-'));
    dirs.push(dir);
    const big = { agents: { a: { trace: Array.from({ length: 3000 }, (_, i) => ({ dir: 'out', at: i, raw: `OPTIONS sip:${i}@lab SIP/2.0\r\n`.repeat(3) })) } } };
    const file = path.join(dir, 'sub', 'report.json');
    writeJsonFile(file, big);
    expect(fs.readFileSync(file, 'utf8')).toBe(`${JSON.stringify(big, null, 2)}\n`);
  });

  it("streams an agent's trace from its files into the report, the same text as the trace's messages written as an array", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'report-file-'));
    dirs.push(dir);
    const trace = new AgentTrace(1000, dir);
    const entries = Array.from({ length: 1500 }, (_, i) => ({ dir: 'out' as const, at: i, transport: 'udp' as const, local: '127.0.0.1:5060', remote: '[::1]:5070', raw: `OPTIONS sip:${i}@lab SIP/2.0\r\n` }));
    for (const entry of entries) trace.append(entry);
    const file = path.join(dir, 'report.json');
    writeJsonFile(file, { agents: { a: { trace, traceDropped: trace.dropped } }, empty: new AgentTrace(10, dir) });
    expect(fs.readFileSync(file, 'utf8')).toBe(`${JSON.stringify({ agents: { a: { trace: entries.slice(500), traceDropped: 500 } }, empty: [] }, null, 2)}\n`);
    trace.close();
  });
});
