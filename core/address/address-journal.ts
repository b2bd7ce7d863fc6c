import fs from 'node:fs';
import path from 'node:path';
import { createPrivateDir, openPrivateFile } from '../files/private-files.js';
import { AddressError } from './address-error.js';

/** The journal's file name inside a data dir. */
export const journalFileName = 'ownership.jsonl';

/** Something the phone put into the world that must not outlive it (SPEC B: "nothing is left behind"). */
export type OwnedThing =
  | { kind: 'address'; address: string; prefixLength: number; ifname?: string; applier: string }
  | { kind: 'binding'; aor: string; contact: string; server: { address: string; port: number }; transport: string }
  /** A one-time IPv4 address's DHCP lease (seed 000 step 515): given back with DHCPRELEASE by its client's chaddr. */
  | { kind: 'dhcp-lease'; address: string; serverId: string; chaddr: string; link: { interface: string } | { server: { address: string; port: number } } };

export interface JournalEntry {
  id: number;
  thing: OwnedThing;
  /** When it was written down (a binding: before its first REGISTER; refreshes do not change it). */
  at: number;
  /**
   * The latest it can still exist by itself: a binding the registrar may hold until then (moved on by every REGISTER
   * that asks for one), certainly expired after. Unknown when absent.
   */
  until?: number;
}

type Line =
  | { op: 'own'; id: number; at: number; thing: OwnedThing; until?: number }
  | { op: 'release'; id: number; at: number }
  | { op: 'until'; id: number; at: number; until: number }
  | { op: 'iids'; at: number; iids: string[] };

/** Lines appended after which the file is rewritten with only what still matters (refreshes add one each). */
const compactAfterLines = 1000;

/**
 * The ownership journal in the data dir: every address added and every registration binding is written (and synced)
 * before it is used, and struck after it is cleaned up. After a crash, the next start reads what is still owned and
 * cleans it up. It also keeps the recent interface identifiers, so a restart never reuses one.
 */
export class OwnershipJournal {
  private readonly owned = new Map<number, JournalEntry>();
  private readonly iids: string[] = [];
  private nextId = 1;
  private fd: number;
  /** Lines appended since the file was last rewritten. */
  private appended = 0;
  /** Why the last periodic rewrite failed, if it did (the file as appended stays valid). */
  rewriteFailure: string | undefined;

  private constructor(
    readonly file: string,
    private readonly iidHistory: number,
  ) {
    this.fd = -1;
  }

  static open(dataDir: string, iidHistory = 4096): OwnershipJournal {
    const journal = new OwnershipJournal(path.join(dataDir, journalFileName), iidHistory);
    try {
      createPrivateDir(dataDir);
      if (fs.existsSync(journal.file)) journal.replay(fs.readFileSync(journal.file, 'utf8'));
      journal.compact();
    } catch (error) {
      if (error instanceof AddressError) throw error;
      throw new AddressError('JOURNAL_FAILED', `cannot open ${journal.file}: ${(error as Error).message}`);
    }
    return journal;
  }

  /** Write down (and sync) that we are about to own something; returns its id for release(). */
  own(thing: OwnedThing): number {
    const entry: JournalEntry = { id: this.nextId++, thing, at: Date.now() };
    this.owned.set(entry.id, entry);
    this.write({ op: 'own', id: entry.id, at: entry.at, thing });
    return entry.id;
  }

  /**
   * Write down (and sync) that what `id` names may exist until `until` at the latest: a REGISTER asking for a binding
   * (or a 2xx granting a longer one) moved its expiry at the registrar on. Never moves it back.
   */
  lastsUntil(id: number, until: number): void {
    const entry = this.owned.get(id);
    if (!entry || (entry.until !== undefined && entry.until >= until)) return;
    entry.until = until;
    this.write({ op: 'until', id, at: Date.now(), until });
  }

  release(id: number): void {
    if (!this.owned.delete(id)) return;
    this.write({ op: 'release', id, at: Date.now() });
  }

  /** What is owned and not released: after a crash, what the last run left behind. */
  outstanding(): JournalEntry[] {
    return [...this.owned.values()];
  }

  /** Interface identifiers used recently, oldest first (hex). */
  recentInterfaceIds(): string[] {
    return [...this.iids];
  }

  rememberInterfaceId(iid: string): void {
    this.iids.push(iid);
    if (this.iids.length > this.iidHistory) this.iids.splice(0, this.iids.length - this.iidHistory);
    this.write({ op: 'iids', at: Date.now(), iids: [iid] });
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }

  /** Rewrite the file with only what still matters (owned things and the IID history). */
  private compact(): void {
    const tmp = `${this.file}.tmp`;
    const lines: Line[] = [...this.owned.values()].map((e) => ({ op: 'own', id: e.id, at: e.at, thing: e.thing, ...(e.until !== undefined ? { until: e.until } : {}) }));
    if (this.iids.length > 0) lines.push({ op: 'iids', at: Date.now(), iids: this.iids });
    // Owner-only (issue 17): the journal names our one-time addresses and registrations.
    const fd = openPrivateFile(tmp, 'w');
    try {
      fs.writeSync(fd, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd); // a rewrite that fails (a full disk) is tried again later: no descriptor is left behind
    }
    fs.renameSync(tmp, this.file);
    // the new file is open before the old one is let go: whatever fails, writes still have a file to go to
    const next = openPrivateFile(this.file, 'a');
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = next;
  }

  private replay(text: string): void {
    for (const raw of text.split('\n')) {
      if (raw.trim() === '') continue;
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        continue; // a line torn by a crash mid-write: the rest of the journal still counts
      }
      if (line.op === 'own' && typeof line.id === 'number' && line.thing) this.owned.set(line.id, { id: line.id, thing: line.thing, at: line.at, ...(typeof line.until === 'number' ? { until: line.until } : {}) });
      else if (line.op === 'release') this.owned.delete(line.id);
      else if (line.op === 'until' && typeof line.until === 'number') {
        const entry = this.owned.get(line.id);
        if (entry) entry.until = Math.max(entry.until ?? line.until, line.until);
      }
      else if (line.op === 'iids' && Array.isArray(line.iids)) this.iids.push(...line.iids.filter((i) => typeof i === 'string'));
      if ('id' in line && typeof line.id === 'number') this.nextId = Math.max(this.nextId, line.id + 1);
    }
    if (this.iids.length > this.iidHistory) this.iids.splice(0, this.iids.length - this.iidHistory);
  }

  private write(line: Line): void {
    try {
      fs.writeSync(this.fd, `${JSON.stringify(line)}\n`);
      fs.fsyncSync(this.fd);
    } catch (error) {
      throw new AddressError('JOURNAL_FAILED', `cannot write ${this.file}: ${(error as Error).message}`);
    }
    // A phone that runs for months refreshes its registrations thousands of times: the file stays bounded. The line is
    // written either way; a rewrite that fails (a full disk) leaves the file as appended, and is tried again 1000 lines on.
    if (++this.appended >= compactAfterLines) {
      this.appended = 0;
      try {
        this.compact();
      } catch (error) {
        // the appended file still holds everything; the failure is kept for the status, not thrown at the writer
        this.rewriteFailure = (error as Error).message;
      }
    }
  }
}
