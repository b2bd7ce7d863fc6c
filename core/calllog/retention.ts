import type Database from 'better-sqlite3';
import type { RetentionPolicy } from '../api/call-log-types.js';

const dayMs = 86_400_000;
/** Rows removed per transaction: short write locks, so a phone writing a live call never waits long. */
const batchSize = 500;

export class RetentionError extends Error {
  override readonly name = 'RetentionError';
  readonly code = 'INVALID_RETENTION';
}

/** A policy with both limits checked: whole numbers, at least 1. */
export function checkRetention(policy: RetentionPolicy): RetentionPolicy {
  const out: RetentionPolicy = {};
  if (policy.maxAgeDays !== undefined) {
    if (!Number.isInteger(policy.maxAgeDays) || policy.maxAgeDays < 1 || policy.maxAgeDays > 36_500) throw new RetentionError('keep-days must be a whole number of days, 1-36500');
    out.maxAgeDays = policy.maxAgeDays;
  }
  if (policy.maxCalls !== undefined) {
    if (!Number.isInteger(policy.maxCalls) || policy.maxCalls < 1 || policy.maxCalls > 1_000_000_000) throw new RetentionError('keep-calls must be a whole number of calls, at least 1');
    out.maxCalls = policy.maxCalls;
  }
  return out;
}

/**
 * Remove what the policy no longer keeps (their messages go with them, ON DELETE CASCADE); calls still in progress
 * stay. Returns how many calls were removed.
 */
export function pruneCalls(db: Database.Database, policy: RetentionPolicy, now = Date.now()): number {
  let removed = 0;
  const deleteBatch = (where: string, ...args: unknown[]): void => {
    const statement = db.prepare(`DELETE FROM calls WHERE n IN (SELECT n FROM calls WHERE ${where} AND result <> 'in-progress' LIMIT ${batchSize})`);
    // Bounded: each round removes a full batch or ends the loop.
    for (;;) {
      const changes = db.transaction(() => statement.run(...args).changes).immediate();
      removed += changes;
      if (changes < batchSize) return;
    }
  };
  if (policy.maxAgeDays !== undefined) deleteBatch('started_at < ?', now - policy.maxAgeDays * dayMs);
  if (policy.maxCalls !== undefined) {
    const cutoff = db.prepare('SELECT started_at AS startedAt, id FROM calls ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET ?').get(policy.maxCalls - 1) as { startedAt: number; id: string } | undefined;
    if (cutoff) deleteBatch('(started_at < ? OR (started_at = ? AND id < ?))', cutoff.startedAt, cutoff.startedAt, cutoff.id);
  }
  return removed;
}
