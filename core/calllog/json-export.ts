import type { CallLogDetail } from '../api/call-log-types.js';
import { redactTraceEntry } from './trace-redaction.js';

/** The JSON export format of `veilphone logs export --json` (versioned: tools may read it). */
export interface CallLogExport {
  format: 'veilphone-call-log';
  version: 1;
  exportedAt: string;
  calls: CallLogDetail[];
}

/** The calls as exported, every message's secrets masked (trace-redaction.ts) whatever their source. */
export function callLogToJson(calls: CallLogDetail[], now = new Date()): CallLogExport {
  return { format: 'veilphone-call-log', version: 1, exportedAt: now.toISOString(), calls: calls.map((call) => ({ ...call, messages: call.messages.map(redactTraceEntry) })) };
}
