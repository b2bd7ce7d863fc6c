import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { SipTapEntry } from '../sip/transport/message-tap.js';

/**
 * How many SIP messages an agent's trace keeps for the report: at most 20,000, the newest; once past it, the oldest
 * quarter goes. A load of a million calls would otherwise keep every message until the run ends; its calls are in the
 * call log whole. A check that reads traces (caller_hidden, failed) refuses to judge once an agent's trace dropped
 * anything (scenario-expectations.ts), rather than judge on part of it.
 */
export const agentTraceLimit = 20_000;

/** Text gathered before a write to the current quarter's file: memory holds at most this much of the trace. */
const writeBytes = 64 * 1024;

/** One quarter of the trace: its messages as JSON lines in a file that has no name (unlinked at once). */
interface Quarter {
  fd: number;
  count: number;
}

/** Closes the files of a trace nobody holds any more (a test's runs, a report written and let go). */
const closeWhenCollected = new FinalizationRegistry<Quarter[]>((quarters) => {
  for (const quarter of quarters) closeQuietly(quarter.fd);
});

/**
 * An agent's SIP messages, oldest first, kept on disk rather than in memory (issue 23: at 300 calls/s two agents'
 * 20,000 messages were about 45 MB of a run's heap). Each quarter of the limit is a file opened and unlinked at once:
 * only this process can read it, and nothing of it is left on disk after a crash (the messages name who called whom).
 * Past the limit the oldest quarter's file is closed, which frees it. Reading goes back to the files, a quarter at a time.
 */
export class AgentTrace implements Iterable<SipTapEntry> {
  private readonly quarters: Quarter[] = [];
  private readonly quarterSize: number;
  private pending: string[] = [];
  private pendingBytes = 0;
  private pendingLines = 0;
  private kept = 0;
  /** How many of its oldest messages the trace no longer holds. */
  dropped = 0;

  constructor(
    readonly limit = agentTraceLimit,
    private readonly directory = os.tmpdir(),
  ) {
    this.quarterSize = Math.max(1, Math.floor(limit / 4));
    closeWhenCollected.register(this, this.quarters, this);
  }

  /** How many messages it holds. */
  get length(): number {
    return this.kept;
  }

  /**
   * Add a message; past the limit the oldest quarter goes. Returns how many were dropped by this append. It never throws:
   * it runs in the transport's tap, before the message is sent or handled, and a trace that cannot be written (a full
   * disk, no file descriptor left) must not cost the call. What it could not keep counts as dropped.
   */
  append(entry: SipTapEntry): number {
    const droppedBefore = this.dropped;
    try {
      this.add(entry);
    } catch {
      this.dropped++;
    }
    return this.dropped - droppedBefore;
  }

  private add(entry: SipTapEntry): void {
    let current = this.quarters.at(-1);
    if (!current || current.count >= this.quarterSize) {
      this.flush();
      current = { fd: openUnlinked(this.directory), count: 0 };
      this.quarters.push(current);
    }
    const line = `${JSON.stringify({ dir: entry.dir, at: entry.at, transport: entry.transport, local: entry.local, remote: entry.remote, raw: entry.raw })}\n`;
    this.pending.push(line);
    this.pendingBytes += line.length;
    current.count++;
    this.kept++;
    this.pendingLines++;
    if (this.pendingBytes >= writeBytes) this.flush();
    if (this.kept <= this.limit) return;
    const oldest = this.quarters.shift()!;
    closeQuietly(oldest.fd);
    this.kept -= oldest.count;
    this.dropped += oldest.count;
  }

  *[Symbol.iterator](): Iterator<SipTapEntry> {
    this.flush();
    for (const quarter of [...this.quarters]) yield* readQuarter(quarter);
  }

  /** JSON.stringify writes it as the array of its messages (cli/report-file.ts streams it instead). */
  toJSON(): SipTapEntry[] {
    return [...this];
  }

  /** Close its files: the trace holds nothing from here on. */
  close(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingLines = 0;
    for (const quarter of this.quarters.splice(0)) closeQuietly(quarter.fd);
    this.kept = 0;
    closeWhenCollected.unregister(this);
  }

  /** Write what is gathered to the current quarter's file; a batch that could not be written is counted as dropped. */
  private flush(): void {
    const current = this.quarters.at(-1);
    if (this.pendingBytes === 0 || !current) return;
    const text = Buffer.from(this.pending.join(''));
    const lines = this.pendingLines;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingLines = 0;
    let before: number | undefined;
    try {
      before = fs.fstatSync(current.fd).size;
      // appended at the end whatever was read before (reads give a position; writes to an 'a+' file always append)
      for (let written = 0; written < text.length; ) written += fs.writeSync(current.fd, text, written);
    } catch {
      this.forget(current, lines);
      try {
        if (before === undefined) throw new Error('size unknown');
        fs.ftruncateSync(current.fd, before); // a partial line would break every read after it
      } catch {
        this.forget(current, current.count); // the quarter cannot be read safely: it goes whole
        this.quarters.splice(this.quarters.indexOf(current), 1);
        closeQuietly(current.fd);
      }
    }
  }

  private forget(quarter: Quarter, lines: number): void {
    quarter.count -= lines;
    this.kept -= lines;
    this.dropped += lines;
  }
}

function openUnlinked(directory: string): number {
  const file = path.join(directory, `veilphone-trace-${randomBytes(12).toString('hex')}`);
  // 'ax+': made here, never opened if the name exists (a file or link someone else put there would see the messages)
  const fd = fs.openSync(file, 'ax+', 0o600);
  fs.unlinkSync(file);
  return fd;
}

function* readQuarter(quarter: Quarter): Generator<SipTapEntry> {
  const size = fs.fstatSync(quarter.fd).size;
  const chunk = Buffer.alloc(Math.min(size, 1 << 20));
  let position = 0;
  let rest = '';
  const decoder = new StringDecoder('utf8'); // a character cut by a chunk's end is finished by the next chunk
  while (position < size) {
    const read = fs.readSync(quarter.fd, chunk, 0, Math.min(chunk.length, size - position), position);
    if (read <= 0) break;
    position += read;
    const lines = (rest + decoder.write(chunk.subarray(0, read))).split('\n');
    rest = lines.pop()!;
    for (const line of lines) if (line !== '') yield JSON.parse(line) as SipTapEntry;
  }
  if (rest !== '') yield JSON.parse(rest) as SipTapEntry;
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // closed already
  }
}
