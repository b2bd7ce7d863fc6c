import { showInvisibles } from './invisible-characters.js';
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
  /** The same text already went the same way: a retransmission (RFC 3261 §17.1.1.2, §17.2.1). */
  retransmission: boolean;
  /** The phone threw the message away (or this answered one it did), and why: a stranger's, malformed… */
  refused?: string;
}

export interface Ladder {
  /** `address:port` of each party; our own sockets first. */
  columns: string[];
  arrows: LadderArrow[];
}

/**
 * The first line of a SIP message as a ladder label: the method, or the status with the CSeq method. A reason phrase
 * is the network's words: an invisible character in it is shown by its code point (invisible-characters.ts).
 */
export function messageLabel(raw: string): string {
  const firstLine = raw.slice(0, Math.max(0, raw.indexOf('\r\n')) || raw.length).trim();
  const response = /^SIP\/2\.0\s+(\d{3})\s*(.*)$/.exec(firstLine);
  if (response) {
    const method = /^(?:cseq)[ \t]*:[ \t]*\d+[ \t]+(\S+)/im.exec(raw)?.[1];
    return showInvisibles(`${response[1]} ${response[2]}${method ? ` (${method})` : ''}`.trim());
  }
  return /^([A-Za-z]+)\s/.exec(firstLine)?.[1] ?? showInvisibles(firstLine.slice(0, 24));
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
  const seen = new Set<string>();
  const arrows = ordered.map((message): LadderArrow => {
    const key = `${message.dir}\u0000${message.remote}\u0000${message.raw}`;
    const retransmission = seen.has(key);
    seen.add(key);
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
      retransmission,
      ...(message.refused !== undefined ? { refused: message.refused } : {}),
    };
  });
  return { columns, arrows };
}

export interface LadderLayoutOptions {
  /** Distance between two party columns. */
  columnWidth: number;
  /** Vertical distance between two arrows. */
  rowHeight: number;
  /** Room left of the first column for the time offsets. */
  gutter: number;
  /** Room above the first arrow for the party names. */
  header: number;
}

/** Geometry of one arrow: a horizontal line from x1 to x2 at y, its label above it. */
export interface LadderArrowLayout extends LadderArrow {
  x1: number;
  x2: number;
  y: number;
  /** Where the label is centred. */
  labelX: number;
  /** `+1.234s`. */
  offsetLabel: string;
}

export interface LadderLayout {
  width: number;
  height: number;
  columns: Array<{ x: number; label: string }>;
  arrows: LadderArrowLayout[];
}

export const defaultLadderLayout: LadderLayoutOptions = { columnWidth: 220, rowHeight: 34, gutter: 80, header: 44 };

/** A time offset as the ladder prints it: seconds with milliseconds. */
export function formatOffset(ms: number): string {
  return `+${(ms / 1000).toFixed(3)}s`;
}

/** Coordinates for drawing a ladder (SVG or canvas): one column per party, one row per message, in order. */
export function layoutLadder(ladder: Ladder, options: LadderLayoutOptions = defaultLadderLayout): LadderLayout {
  const x = (column: number): number => options.gutter + options.columnWidth / 2 + column * options.columnWidth;
  const columns = ladder.columns.map((label, index) => ({ x: x(index), label }));
  const arrows = ladder.arrows.map((arrow, index): LadderArrowLayout => {
    const x1 = x(arrow.from);
    const x2 = x(arrow.to);
    return { ...arrow, x1, x2, y: options.header + options.rowHeight * (index + 0.75), labelX: (x1 + x2) / 2, offsetLabel: formatOffset(arrow.offsetMs) };
  });
  return {
    width: options.gutter + Math.max(1, ladder.columns.length) * options.columnWidth,
    height: options.header + options.rowHeight * (ladder.arrows.length + 0.5),
    columns,
    arrows,
  };
}
