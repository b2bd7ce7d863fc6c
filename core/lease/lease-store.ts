import fs from 'node:fs';
import path from 'node:path';
import { createPrivateDir, writePrivateFileAtomic } from '../files/private-files.js';
import { isIpv4 } from './ipv4.js';
import { portRangeProblem } from './dhcp-options.js';
import type { Lease } from './lease.js';
import { LeaseError } from './lease-error.js';

/** A lease as kept between runs (Fig. 5B 570 "the client may store the lease information"). */
export interface StoredLease {
  lease: Lease;
  /** Who it was leased to; a lease is only reused by the same client id and vendor class. */
  clientId: string;
  vendorClass: string;
  /** True once a RELEASE was sent: the address may only be asked for again (option 50), not used. */
  released: boolean;
}

export interface LeaseStore {
  /** The stored lease, or undefined (none, or unreadable). */
  load(): StoredLease | undefined;
  save(stored: StoredLease): void;
  clear(): void;
}

/** Lease times that may be infinite (static or infinite leases), stored as null. */
const timeKeys = new Set(['renewAt', 'rebindAt', 'expiresAt']);

/** The stored lease's file name inside a data dir. */
export const leaseFileName = 'lease.json';

/** `lease.json` in the phone's data dir, written atomically (temp file + rename), readable by its owner only. */
export class FileLeaseStore implements LeaseStore {
  readonly file: string;
  /** Why the last load found nothing usable (BAD_STORED_LEASE), for the UI and tests. */
  problem: LeaseError | undefined;

  constructor(dataDir: string, fileName = leaseFileName) {
    this.file = path.join(dataDir, fileName);
  }

  load(): StoredLease | undefined {
    this.problem = undefined;
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      return undefined;
    }
    try {
      return parseStoredLease(JSON.parse(text, (key, value) => (value === null && timeKeys.has(key) ? Number.POSITIVE_INFINITY : value)));
    } catch (error) {
      this.problem = error instanceof LeaseError ? error : new LeaseError('BAD_STORED_LEASE', `${this.file}: ${(error as Error).message}`);
      return undefined;
    }
  }

  save(stored: StoredLease): void {
    createPrivateDir(path.dirname(this.file));
    // Infinity (a static or infinite lease) is written as null and read back as Infinity.
    writePrivateFileAtomic(this.file, `${JSON.stringify({ version: 1, ...stored }, (_key, value) => (value === Number.POSITIVE_INFINITY ? null : value), 2)}\n`);
  }

  clear(): void {
    fs.rmSync(this.file, { force: true });
  }
}

/** An in-memory store (tests, and phones without a data dir). */
export class MemoryLeaseStore implements LeaseStore {
  constructor(private stored?: StoredLease) {}
  load(): StoredLease | undefined {
    return this.stored ? structuredClone(this.stored) : undefined;
  }
  save(stored: StoredLease): void {
    this.stored = structuredClone(stored);
  }
  clear(): void {
    this.stored = undefined;
  }
}

function parseStoredLease(value: unknown): StoredLease {
  const bad = (why: string): never => {
    throw new LeaseError('BAD_STORED_LEASE', `stored lease ${why}`);
  };
  if (typeof value !== 'object' || value === null) return bad('is not an object');
  const v = value as Record<string, unknown>;
  if (v.version !== 1) bad(`has version ${String(v.version)}, expected 1`);
  if (typeof v.clientId !== 'string' || typeof v.vendorClass !== 'string' || typeof v.released !== 'boolean') bad('lacks clientId, vendorClass or released');
  const lease = v.lease as Lease | undefined;
  if (typeof lease !== 'object' || lease === null) return bad('has no lease');
  if (!isIpv4(lease.address)) bad(`has a bad address "${String(lease.address)}"`);
  if (typeof lease.portRange !== 'object' || lease.portRange === null || portRangeProblem(lease.portRange) !== undefined) bad('has a bad port range');
  if (!Array.isArray(lease.mgc) || lease.mgc.some((m) => !isIpv4(m.address) || !(m.port > 0 && m.port < 65536))) bad('has a bad MGC list');
  for (const key of ['obtainedAt', 'renewAt', 'rebindAt', 'expiresAt', 'leaseSeconds'] as const) if (typeof lease[key] !== 'number') bad(`lacks ${key}`);
  if (!['dhcp', 'stored', 'static'].includes(lease.source)) bad(`has source "${String(lease.source)}"`);
  return { lease, clientId: v.clientId as string, vendorClass: v.vendorClass as string, released: v.released as boolean };
}
