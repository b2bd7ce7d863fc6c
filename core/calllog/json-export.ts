import type { CallLogDetail } from '../api/call-log-types.js';

/** The JSON export format of `veilphone logs export --json` (versioned: tools may read it). */
export interface CallLogExport {
  format: 'veilphone-call-log';
  version: 1;
  exportedAt: string;
  calls: CallLogDetail[];
}

export function callLogToJson(calls: CallLogDetail[], now = new Date()): CallLogExport {
  return { format: 'veilphone-call-log', version: 1, exportedAt: now.toISOString(), calls };
}
