import fs from 'node:fs';
import type { CallLogDetail, CallLogEntry, CallLogFilter } from '../core/api/call-log-types.js';
import { historyFilter, HistoryQueryError } from '../core/api/history-query.js';
import { showInvisibles } from '../core/api/invisible-characters.js';
import { describeSignature, traceSignatures } from '../core/api/signature-view.js';
import { callFacts } from '../core/calllog/call-facts.js';
import { CallLogError, CallLogStore } from '../core/calllog/call-log-store.js';
import { callLogToJson } from '../core/calllog/json-export.js';
import { renderLadderText } from '../core/calllog/ladder-text.js';
import { PcapExportError, tracesToPcap } from '../core/calllog/pcap-export.js';
import { writePrivateFile } from '../core/files/private-files.js';
import { callLogPath, prepareDataDir } from '../core/phone/data-dir.js';
import { exitCodes } from './exit-codes.js';
import { forTerminal } from './terminal-text.js';

export interface LogsListOptions {
  since?: string;
  until?: string;
  number?: string;
  callId?: string;
  result?: string;
  status?: string;
  direction?: string;
  account?: string;
  anonymous?: boolean;
  before?: string;
  limit: string;
  json?: boolean;
}

function openLog(dataDir: string): CallLogStore {
  const file = callLogPath(dataDir);
  if (!fs.existsSync(file)) fail(exitCodes.invalid, 'NO_CALL_LOG', `no call log in ${dataDir} (use --data-dir)`);
  try {
    prepareDataDir(dataDir);
    return CallLogStore.open(file);
  } catch (error) {
    fail(exitCodes.environment, (error as CallLogError).code ?? 'OPEN_FAILED', (error as Error).message);
  }
}

/** The filter `logs list` options describe: the same reading of the same fields as the history view's search. */
export function listFilter(options: LogsListOptions, now = Date.now()): CallLogFilter {
  let filter: CallLogFilter;
  try {
    filter = historyFilter(
      {
        ...(options.since !== undefined ? { since: options.since } : {}),
        ...(options.until !== undefined ? { until: options.until } : {}),
        ...(options.number !== undefined ? { number: options.number } : {}),
        ...(options.callId !== undefined ? { callId: options.callId } : {}),
        ...(options.result !== undefined ? { result: options.result } : {}),
        ...(options.status !== undefined ? { status: options.status } : {}),
        ...(options.direction !== undefined ? { direction: options.direction } : {}),
        ...(options.account !== undefined ? { account: options.account } : {}),
        ...(options.anonymous ? { anonymous: true } : {}),
      },
      now,
    );
  } catch (error) {
    if (error instanceof HistoryQueryError) fail(exitCodes.invalid, error.code, `${error.message}`);
    throw error;
  }
  if (options.result !== undefined && filter.result === undefined) fail(exitCodes.invalid, 'INVALID_ARGUMENT', '--result needs at least one result');
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) fail(exitCodes.invalid, 'INVALID_ARGUMENT', '--limit must be 1-1000');
  filter.limit = limit;
  return filter;
}

/** `veilphone logs list`: newest first, filtered like the history view. */
export function logsList(dataDir: string, options: LogsListOptions): void {
  const filter = listFilter(options);
  const log = openLog(dataDir);
  if (options.before !== undefined) {
    const older = resolveOne(log, options.before);
    filter.before = { startedAt: older.startedAt, id: older.id };
  }
  const page = log.listCalls(filter);
  log.close();
  if (options.json) {
    console.log(JSON.stringify(page.calls, null, 2));
    return;
  }
  if (page.calls.length === 0) {
    console.log('no calls match');
    return;
  }
  for (const call of page.calls) console.log(forTerminal(summaryLine(call)));
  if (page.next) console.log(`… more: add --before ${page.next.id}`);
}

/** `veilphone logs show CALL`: the call's facts and its message ladder (`--raw`: every message in full). */
export function logsShow(dataDir: string, reference: string, options: { raw?: boolean; json?: boolean } = {}): void {
  const log = openLog(dataDir);
  const call = resolveOne(log, reference);
  log.close();
  if (options.json) {
    console.log(JSON.stringify(call, null, 2));
    return;
  }
  for (const [name, value] of callFacts(call)) console.log(forTerminal(`${name.padEnd(14)} ${value}`));
  console.log('');
  console.log(call.messages.length > 0 ? forTerminal(renderLadderText(call)) : '(no messages recorded)');
  if (!options.raw) return;
  const start = call.messages[0]?.at ?? 0;
  for (const message of call.messages) {
    const arrow = message.dir === 'out' ? `${message.local} -> ${message.remote}` : `${message.remote} -> ${message.local}`;
    console.log(`\n--- #${message.seq} +${((message.at - start) / 1000).toFixed(3)}s ${new Date(message.at).toISOString()} ${message.transport.toUpperCase()} ${arrow}`);
    for (const signature of traceSignatures(message)) console.log(`    signature ${describeSignature(signature)}`);
    console.log(forTerminal(showInvisibles(message.raw.replace(/\r\n/g, '\n').trimEnd()))); // the message as it came, nothing hidden
  }
}

/** `veilphone logs export CALL… --pcap FILE | --json FILE`. */
export function logsExport(dataDir: string, references: string[], options: { pcap?: string; json?: string }): void {
  if (!options.pcap && !options.json) fail(exitCodes.invalid, 'INVALID_ARGUMENT', 'give --pcap FILE and/or --json FILE');
  const log = openLog(dataDir);
  const calls = references.map((reference) => resolveOne(log, reference));
  log.close();
  if (options.pcap) {
    let pcap: Buffer;
    try {
      pcap = tracesToPcap(calls.flatMap((c) => c.messages));
    } catch (error) {
      if (error instanceof PcapExportError) fail(exitCodes.failed, error.code, `cannot write a pcap: ${error.message}`);
      throw error;
    }
    write(options.pcap, pcap);
  }
  if (options.json) write(options.json, `${JSON.stringify(callLogToJson(calls), null, 2)}\n`);
  console.log(`exported ${calls.length} call(s), ${calls.reduce((n, c) => n + c.messages.length, 0)} message(s)`);
}

/** `veilphone logs retention [--keep-days N] [--keep-calls N] [--keep-all]`: show or set how long calls are kept. */
export function logsRetention(dataDir: string, options: { keepDays?: string; keepCalls?: string; keepAll?: boolean }): void {
  // the range in the message too (helper 74: -1 and 99999999999 were told "must be a whole number")
  const count = (text: string | undefined, what: string, max: number): number | undefined => {
    if (text === undefined) return undefined;
    const value = /^\d{1,12}$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
    if (!(value >= 1 && value <= max)) fail(exitCodes.invalid, 'INVALID_RETENTION', `${what} must be a whole number from 1 to ${max}, got "${text.slice(0, 40)}"`);
    return value;
  };
  const days = count(options.keepDays, '--keep-days', 36_500);
  const calls = count(options.keepCalls, '--keep-calls', 1_000_000_000);
  if (options.keepAll && (days !== undefined || calls !== undefined)) fail(exitCodes.invalid, 'INVALID_RETENTION', '--keep-all cannot be combined with --keep-days or --keep-calls');
  let log: CallLogStore;
  try {
    prepareDataDir(dataDir);
    log = CallLogStore.open(callLogPath(dataDir));
  } catch (error) {
    fail(exitCodes.environment, (error as CallLogError).code ?? 'OPEN_FAILED', (error as Error).message);
  }
  if (options.keepAll || days !== undefined || calls !== undefined) {
    try {
      const removed = log.setRetention({ ...(days !== undefined ? { maxAgeDays: days } : {}), ...(calls !== undefined ? { maxCalls: calls } : {}) });
      console.log(`removed ${removed} call(s)`);
    } catch (error) {
      log.close();
      if (error instanceof CallLogError) fail(exitCodes.invalid, error.code, error.message);
      throw error;
    }
  }
  const policy = log.retention();
  const total = log.countCalls();
  log.close();
  const rules = [policy.maxAgeDays !== undefined ? `${policy.maxAgeDays} days` : undefined, policy.maxCalls !== undefined ? `the newest ${policy.maxCalls} calls` : undefined].filter(Boolean);
  console.log(`keeping ${rules.length ? rules.join(' and at most ') : 'every call'}; ${total} call(s) in the log`);
}

function resolveOne(log: CallLogStore, reference: string): CallLogDetail {
  const ids = log.resolveCall(reference);
  if (ids.length === 0) {
    log.close();
    fail(exitCodes.failed, 'UNKNOWN_CALL', `no call matches "${reference}"`);
  }
  if (ids.length > 1) {
    log.close();
    fail(exitCodes.invalid, 'AMBIGUOUS_CALL', `"${reference}" matches ${ids.length} calls: ${ids.join(', ')}`);
  }
  return log.getCall(ids[0]!)!;
}

function summaryLine(call: CallLogEntry): string {
  const when = new Date(call.startedAt).toISOString().replace('T', ' ').slice(0, 19);
  const arrow = call.direction === 'incoming' ? '<-' : '->';
  const party = call.remoteAnonymous ? 'Anonymous' : call.remoteShown;
  const duration = call.durationMs !== undefined && call.answeredAt !== undefined ? `${Math.round(call.durationMs / 1000)}s` : '';
  const status = call.status !== undefined ? String(call.status) : '';
  return [call.id.slice(0, 8), when, arrow, party.padEnd(20), call.result.padEnd(11), status.padEnd(3), duration.padStart(5), call.anonymity && call.anonymity !== 'none' ? `anon:${call.anonymity}` : '', call.forwardedTo !== undefined ? `→ ${call.forwardedTo}` : ''].join('  ').trimEnd();
}

function write(file: string, data: string | Buffer): void {
  try {
    // into a directory that exists: a mistyped path is an error, not a new directory tree (helper 74: /nonexistent/)
    writePrivateFile(file, data); // an export tells as much as the call log: readable by its owner only, like the log
  } catch (error) {
    fail(exitCodes.environment, 'WRITE_FAILED', `cannot write ${file}: ${(error as Error).message}`);
  }
}

/** Print `veilphone logs: message [CODE]` on stderr and exit with the code's class (cli/exit-codes.ts). */
function fail(code: number, errorCode: string, message: string): never {
  console.error(`veilphone logs: ${message} [${errorCode}]`);
  process.exit(code);
}
