import type { TraceMessage } from './call-log-types.js';

/** One arrow of a call-flow (ladder) diagram. */
export interface LadderArrow {
  seq: number;
  /** Column indexes. */
  from: number;
  to: number;
  /** `INVITE`, `180 Ringing`, `200 OK (BYE)`. */
  label: string;
  /** Milliseconds since the first message. */
  offsetMs: number;
  dir: 'in' | 'out';
  transport: string;
}

export interface Ladder {
  /** `address:port` of each party; our own sockets first. */
  columns: string[];
  arrows: LadderArrow[];
}

/** The first line of a SIP message as a ladder label: the method, or the status with the CSeq method. */
export function messageLabel(raw: string): string {
  const firstLine = raw.slice(0, Math.max(0, raw.indexOf('\r\n')) || raw.length).trim();
  const response = /^SIP\/2\.0\s+(\d{3})\s*(.*)$/.exec(firstLine);
  if (response) {
    const method = /^(?:cseq)[ \t]*:[ \t]*\d+[ \t]+(\S+)/im.exec(raw)?.[1];
    return `${response[1]} ${response[2]}${method ? ` (${method})` : ''}`.trim();
  }
  return /^([A-Za-z]+)\s/.exec(firstLine)?.[1] ?? firstLine.slice(0, 24);
}

/** Lay a call's trace out as columns (parties) and arrows (messages), as sngrep's call flow does. */
export function buildLadder(messages: readonly TraceMessage[]): Ladder {
  const ordered = [...messages].sort((a, b) => a.seq - b.seq);
  const columns: string[] = [];
  const column = (endpoint: string): number => {
    let index = columns.indexOf(endpoint);
    if (index < 0) index = columns.push(endpoint) - 1;
    return index;
  };
  for (const message of ordered) column(message.local);
  const start = ordered[0]?.at ?? 0;
  const arrows = ordered.map((message): LadderArrow => {
    const local = column(message.local);
    const remote = column(message.remote);
    return {
      seq: message.seq,
      from: message.dir === 'out' ? local : remote,
      to: message.dir === 'out' ? remote : local,
      label: messageLabel(message.raw),
      offsetMs: message.at - start,
      dir: message.dir,
      transport: message.transport,
    };
  });
  return { columns, arrows };
}
