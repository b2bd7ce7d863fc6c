import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import type { CallLogFilter } from '../core/api/call-log-types.js';
import { CallLogStore } from '../core/calllog/call-log-store.js';
import { tracesToPcap } from '../core/calllog/pcap-export.js';
import { searchedColumns } from '../core/calllog/schema.js';
import { seedCallLog } from '../test/support/seed-call-log.js';
import { median, ms, quantile, type BenchResult } from './bench-result.js';

const calls = Number(process.env.BENCH_LOG_CALLS ?? 100_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 40);
const day = 86_400_000;

interface Measure {
  name: string;
  target: number;
  ours: () => unknown;
  anchor: () => unknown;
}

/** Run both sides alternately, after a warm-up, so they see the same cache and the same machine load. */
function sideBySide(measure: Measure): { ours: number[]; anchor: number[] } {
  const ours: number[] = [];
  const anchor: number[] = [];
  for (let i = 0; i < 3; i++) {
    measure.ours();
    measure.anchor();
  }
  for (let i = 0; i < rounds; i++) {
    for (const [side, run] of i % 2 ? ([[anchor, measure.anchor], [ours, measure.ours]] as const) : ([[ours, measure.ours], [anchor, measure.anchor]] as const)) {
      const t0 = performance.now();
      run();
      side.push(performance.now() - t0);
    }
  }
  return { ours, anchor };
}

/**
 * The call log at support-staff scale: 100,000 logged calls, a filtered history query, opening a call with 30
 * messages, exporting it to pcap. Anchor: the same data read with plain better-sqlite3 prepared statements — no
 * Veilphone layer, no search index (a LIKE scan), no row mapping, no pcap framing.
 */
export async function benchCallLog(): Promise<BenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-bench-calllog-'));
  try {
    const file = path.join(dir, 'calllog.sqlite');
    const seedStart = performance.now();
    const seeded = seedCallLog(file, { calls, messagesPerCall: 2, showcaseMessages: 30, cache: true });
    const seedMs = performance.now() - seedStart;
    const store = CallLogStore.open(file, { retentionIntervalMs: 0 });
    const raw = new Database(file, { readonly: true });
    const now = Date.now();
    const out = path.join(dir, 'out.pcap');
    const outRaw = path.join(dir, 'out.txt');

    const likeAll = `(${searchedColumns.map((c) => `${c} LIKE ?`).join(' OR ')})`;
    const plainNumber = raw.prepare(`SELECT * FROM calls WHERE ${likeAll} ORDER BY started_at DESC, id DESC LIMIT 51`);
    const plainNumberResult = raw.prepare(`SELECT * FROM calls WHERE ${likeAll} AND result IN (?, ?) ORDER BY started_at DESC, id DESC LIMIT 51`);
    const plainNumberStatus = raw.prepare(`SELECT * FROM calls WHERE ${likeAll} AND status = ? ORDER BY started_at DESC, id DESC LIMIT 51`);
    const plainRange = raw.prepare('SELECT * FROM calls WHERE started_at >= ? AND started_at <= ? AND direction = ? AND result = ? ORDER BY started_at DESC, id DESC LIMIT 51');
    const plainCall = raw.prepare('SELECT * FROM calls WHERE id = ?');
    const plainMessages = raw.prepare('SELECT seq, dir, at, transport, local, remote, raw FROM messages WHERE call_id = ? ORDER BY seq');
    const like = (text: string): string[] => searchedColumns.map(() => `%${text}%`);
    const query = (filter: CallLogFilter) => () => store.listCalls({ limit: 50, ...filter });

    const measures: Measure[] = [
      { name: 'query: one number (exact, 1 hit)', target: 50, ours: query({ number: seeded.showcaseNumber }), anchor: () => plainNumber.all(...like(seeded.showcaseNumber)) },
      { name: 'query: part of a number + 2 results', target: 50, ours: query({ number: '0399', result: ['busy', 'failed'] }), anchor: () => plainNumberResult.all(...like('0399'), 'busy', 'failed') },
      // Text every call has, with a condition no call meets: the status index answers it (without it, 100,000 rows).
      { name: 'query: text in every call + a status no call has', target: 50, ours: query({ number: 'lab.invalid', status: 480 }), anchor: () => plainNumberStatus.all(...like('lab.invalid'), 480) },
      { name: 'query: a week, outgoing, missed', target: 50, ours: query({ since: now - 37 * day, until: now - 30 * day, direction: 'outgoing', result: 'missed' }), anchor: () => plainRange.all(now - 37 * day, now - 30 * day, 'outgoing', 'missed') },
      { name: 'open a call with 30 messages', target: 20, ours: () => store.getCall(seeded.showcaseId), anchor: () => [plainCall.get(seeded.showcaseId), plainMessages.all(seeded.showcaseId)] },
      {
        name: 'export that call to a pcap file',
        target: 50,
        ours: () => fs.writeFileSync(out, tracesToPcap(store.getCall(seeded.showcaseId)!.messages)),
        anchor: () => fs.writeFileSync(outRaw, (plainMessages.all(seeded.showcaseId) as Array<{ raw: string }>).map((m) => m.raw).join('')),
      },
    ];
    const results = measures.map((measure) => ({ measure, ...sideBySide(measure) }));
    const hits = store.listCalls({ number: seeded.showcaseNumber }).calls.length;
    const messages = store.getCall(seeded.showcaseId)!.messages.length;
    const pcapBytes = fs.statSync(out).size;
    store.close();
    raw.close();

    const ratios: Record<string, number> = {};
    const rows = results.map(({ measure, ours, anchor }) => {
      const ratio = median(ours) / median(anchor);
      ratios[measure.name] = ratio;
      const verdict = median(ours) <= measure.target ? 'met' : '**missed**';
      return `| ${measure.name} | ${ms(median(ours))} | ${ms(quantile(ours, 0.9))} | ${ms(median(anchor))} | ${ratio.toFixed(2)}× | ≤ ${measure.target} ms: ${verdict} |`;
    });
    return {
      title: 'Call log at 100,000 calls (issue 9)',
      lines: [
        `${calls.toLocaleString('en')} logged calls (2 messages each, one call with ${messages}; file ${(fs.statSync(file).size / 1e6).toFixed(0)} MB, seeded or copied from cache in ${(seedMs / 1000).toFixed(1)} s, not measured).`,
        `Each measure ${rounds} times, alternating with its anchor after a warm-up. Veilphone: \`CallLogStore\` (listCalls with the trigram search index, getCall, tracesToPcap + write).`,
        'Anchor: the same questions as plain better-sqlite3 prepared SELECTs on the same file — no Veilphone layer: number search as a LIKE over the',
        `same ${searchedColumns.length} columns, raw rows without mapping, and for the export the messages' raw text written as-is (no pcap framing).`,
        '',
        '| measure | Veilphone median | Veilphone p90 | anchor median | ratio | target |',
        '| --- | --- | --- | --- | --- | --- |',
        ...rows,
        '',
        `The number search found ${hits} call; the pcap is ${pcapBytes.toLocaleString('en')} bytes for ${messages} messages. The anchor reads the same file, so it has the`,
        'same B-tree indexes (started_at, result, status, account); what it lacks is the trigram index, hence ratios far below 1 for number searches.',
        'Above 1 is the cost of the layer: row mapping, the trigram hit count that picks the plan (≈ 2-3 ms for text in every call), pcap framing.',
        'Still slow: a text that most calls contain combined with a rare condition on a field without an index (anonymity) reads every row, like the',
        'LIKE anchor — 67-129 ms for 100,000 rows on this machine, measured for the status condition before status had its index.',
      ],
      ratios,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
