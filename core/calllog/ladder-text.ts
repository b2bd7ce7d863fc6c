import type { CallLogDetail } from '../api/call-log-types.js';
import { buildLadder, formatOffset } from '../api/ladder.js';
import { describeSignature, traceSignatures } from '../api/signature-view.js';

const columnWidth = 26;

/**
 * A call's message flow for a terminal, like sngrep's call flow: one column per party, one arrow per message
 * (retransmissions marked), and under a message the routing-header signatures it carries with their verdicts.
 */
export function renderLadderText(call: CallLogDetail): string {
  const ladder = buildLadder(call.messages);
  const bySeq = new Map(call.messages.map((m) => [m.seq, m]));
  const lines: string[] = [];
  const pad = ' '.repeat(10);
  lines.push(pad + ladder.columns.map((c) => center(c, columnWidth)).join(''));
  lines.push(pad + ladder.columns.map(() => center('|', columnWidth)).join(''));
  for (const arrow of ladder.arrows) {
    const left = Math.min(arrow.from, arrow.to);
    const right = Math.max(arrow.from, arrow.to);
    const cells = ladder.columns.map(() => center('|', columnWidth).split(''));
    const row = cells.flat();
    const start = left * columnWidth + Math.floor(columnWidth / 2);
    const end = right * columnWidth + Math.floor(columnWidth / 2);
    for (let i = start + 1; i < end; i++) row[i] = '-';
    if (arrow.from < arrow.to) row[end - 1] = '>';
    else row[start + 1] = '<';
    const label = ` ${arrow.label}${arrow.retransmission ? ' (again)' : ''}${arrow.refused !== undefined ? ' (refused)' : ''} `.slice(0, Math.max(0, end - start - 3));
    const labelAt = start + 2 + Math.max(0, Math.floor((end - start - 3 - label.length) / 2));
    for (let i = 0; i < label.length; i++) row[labelAt + i] = label[i]!;
    const offset = formatOffset(arrow.offsetMs).padStart(9);
    lines.push(`${offset} ${row.join('').trimEnd()}  ${arrow.transport.toUpperCase()}`);
    if (arrow.refused !== undefined) lines.push(`${' '.repeat(10)}  ⤷ refused by the phone: ${arrow.refused}`);
    const message = bySeq.get(arrow.seq);
    for (const signature of message ? traceSignatures(message) : []) lines.push(`${' '.repeat(10)}  ⤷ signature ${describeSignature(signature)}`);
  }
  return lines.join('\n');
}

function center(text: string, width: number): string {
  const clipped = text.length > width - 2 ? text.slice(0, width - 2) : text;
  const left = Math.floor((width - clipped.length) / 2);
  return ' '.repeat(left) + clipped + ' '.repeat(width - left - clipped.length);
}
