import type { CallLogDetail, CallLogExportFormat, CallLogFile } from '../api/call-log-types.js';
import { callLogToJson } from './json-export.js';
import { tracesToPcap } from './pcap-export.js';

/** `veilphone-<first call id>[-and-N-more]-<UTC time>.pcap`: sorts by time, says what it holds, safe on every OS. */
export function exportFileName(calls: readonly CallLogDetail[], format: CallLogExportFormat, now = new Date()): string {
  const first = (calls[0]?.id ?? 'calls').replace(/[^A-Za-z0-9_-]/g, '').slice(0, 8) || 'calls';
  const more = calls.length > 1 ? `-and-${calls.length - 1}-more` : '';
  const stamp = now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  return `veilphone-${first}${more}-${stamp}.${format}`;
}

/**
 * Calls as one export file for a UI to save: JSON (the `veilphone logs export --json` format) as text, or the
 * pcap (SIP as UDP frames, `veilphone logs export --pcap`) as base64 so it survives a JSON wire.
 */
export function callLogFile(calls: CallLogDetail[], format: CallLogExportFormat, now = new Date()): CallLogFile {
  const messages = calls.reduce((n, c) => n + c.messages.length, 0);
  const fileName = exportFileName(calls, format, now);
  if (format === 'json') {
    return { fileName, mimeType: 'application/json', encoding: 'utf8', data: `${JSON.stringify(callLogToJson(calls, now), null, 2)}\n`, calls: calls.length, messages };
  }
  return { fileName, mimeType: 'application/vnd.tcpdump.pcap', encoding: 'base64', data: tracesToPcap(calls.flatMap((c) => c.messages)).toString('base64'), calls: calls.length, messages };
}
