import fs from 'node:fs';
import path from 'node:path';
import type { CallLogDetail, CallLogEntry, CallLogFilter, CallResult } from '../core/api/call-log-types.js';
import { CallLogStore } from '../core/calllog/call-log-store.js';
import { callLogToJson } from '../core/calllog/json-export.js';
import { renderLadderText } from '../core/calllog/ladder-text.js';
import { tracesToPcap } from '../core/calllog/pcap-export.js';
import { callLogPath } from '../core/phone/data-dir.js';
import { exitCodes } from './exit-codes.js';
import { parseTimeOption } from './time-option.js';

const results: CallResult[] = ['in-progress', 'answered', 'missed', 'rejected', 'busy', 'cancelled', 'failed', 'interrupted'];

export interface LogsListOptions {
  since?: string;
  until?: string;
  number?: string;
  callId?: string;
  result?: string;
  direction?: string;
  anonymous?: boolean;
  limit: string;
  json?: boolean;
}

function openLog(dataDir: string): CallLogStore {
  const file = callLogPath(dataDir);
  if (!fs.existsSync(file)) fail(exitCodes.invalid, `no call log in ${dataDir} (use --data-dir)`);
  try {
    return CallLogStore.open(file);
  } catch (error) {
    fail(exitCodes.environment, (error as Error).message);
  }
}

/** `veilphone logs list`: newest first, filtered like the history view. */
export function logsList(dataDir: string, options: LogsListOptions): void {
  const filter: CallLogFilter = {};
  try {
    if (options.since !== undefined) filter.since = parseTimeOption(options.since);
    if (options.until !== undefined) filter.until = parseTimeOption(options.until);
  } catch (error) {
    fail(exitCodes.invalid, (error as Error).message);
  }
  if (options.number !== undefined) filter.number = options.number;
  if (options.callId !== undefined) filter.sipCallId = options.callId;
  if (options.result !== undefined) {
    if (!results.includes(options.result as CallResult)) fail(exitCodes.invalid, `--result must be one of ${results.join(', ')}`);
    filter.result = options.result as CallResult;
  }
  if (options.direction !== undefined) {
    if (options.direction !== 'incoming' && options.direction !== 'outgoing') fail(exitCodes.invalid, '--direction must be incoming or outgoing');
    filter.direction = options.direction;
  }
  if (options.anonymous) filter.anonymous = true;
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) fail(exitCodes.invalid, '--limit must be 1-1000');
  filter.limit = limit;
  const log = openLog(dataDir);
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
  for (const call of page.calls) console.log(summaryLine(call));
  if (page.next) console.log(`… more: add --until ${new Date(page.next.startedAt).toISOString()}`);
}

/** `veilphone logs show CALL`: the call's facts and its message ladder. */
export function logsShow(dataDir: string, reference: string): void {
  const log = openLog(dataDir);
  const call = resolveOne(log, reference);
  log.close();
  const facts: Array<[string, string | undefined]> = [
    ['call', call.id],
    ['Call-ID', call.sipCallId],
    ['direction', call.direction],
    ['party (shown)', call.remoteShown],
    ['party (URI)', call.remoteUri],
    ['dialled', call.dialed],
    ['sent as From', call.sentFrom],
    ['sent to', call.sentRequestUri],
    ['anonymity', call.anonymity],
    ['local address', call.localAddress],
    ['SIP socket', call.localSip],
    ['ports', call.ports ? `${call.ports.min}-${call.ports.max}` : undefined],
    ['lease', call.lease],
    ['started', new Date(call.startedAt).toISOString()],
    ['answered', call.answeredAt !== undefined ? new Date(call.answeredAt).toISOString() : undefined],
    ['ended', call.endedAt !== undefined ? new Date(call.endedAt).toISOString() : undefined],
    ['result', `${call.result}${call.status !== undefined ? ` (${call.status} ${call.reason ?? ''})`.trimEnd() : ''}${call.endedBy ? `, ended by ${call.endedBy}` : ''}`],
  ];
  for (const [name, value] of facts) if (value !== undefined) console.log(`${name.padEnd(14)} ${value}`);
  console.log('');
  console.log(call.messages.length > 0 ? renderLadderText(call) : '(no messages recorded)');
}

/** `veilphone logs export CALL… --pcap FILE | --json FILE`. */
export function logsExport(dataDir: string, references: string[], options: { pcap?: string; json?: string }): void {
  if (!options.pcap && !options.json) fail(exitCodes.invalid, 'give --pcap FILE and/or --json FILE');
  const log = openLog(dataDir);
  const calls = references.map((reference) => resolveOne(log, reference));
  log.close();
  if (options.pcap) write(options.pcap, tracesToPcap(calls.flatMap((c) => c.messages)));
  if (options.json) write(options.json, `${JSON.stringify(callLogToJson(calls), null, 2)}\n`);
  console.log(`exported ${calls.length} call(s), ${calls.reduce((n, c) => n + c.messages.length, 0)} message(s)`);
}

function resolveOne(log: CallLogStore, reference: string): CallLogDetail {
  const ids = log.resolveCall(reference);
  if (ids.length === 0) fail(exitCodes.failed, `no call matches "${reference}"`);
  if (ids.length > 1) fail(exitCodes.invalid, `"${reference}" matches ${ids.length} calls: ${ids.join(', ')}`);
  return log.getCall(ids[0]!)!;
}

function summaryLine(call: CallLogEntry): string {
  const when = new Date(call.startedAt).toISOString().replace('T', ' ').slice(0, 19);
  const arrow = call.direction === 'incoming' ? '<-' : '->';
  const party = call.remoteAnonymous ? 'Anonymous' : call.remoteShown;
  const duration = call.durationMs !== undefined && call.answeredAt !== undefined ? `${Math.round(call.durationMs / 1000)}s` : '';
  const status = call.status !== undefined ? String(call.status) : '';
  return [call.id.slice(0, 8), when, arrow, party.padEnd(20), call.result.padEnd(11), status.padEnd(3), duration.padStart(5), call.anonymity && call.anonymity !== 'none' ? `anon:${call.anonymity}` : ''].join('  ').trimEnd();
}

function write(file: string, data: string | Buffer): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, data);
}

function fail(code: number, message: string): never {
  console.error(`veilphone logs: ${message}`);
  process.exit(code);
}
