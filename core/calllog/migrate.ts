import type Database from 'better-sqlite3';
import { migrations, schemaVersion, type Migration } from './schema.js';

export class CallLogSchemaError extends Error {
  override readonly name = 'CallLogSchemaError';
  constructor(
    readonly code: 'NEWER_SCHEMA' | 'MIGRATION_FAILED',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Bring the file up to `schemaVersion`, one migration per transaction. The version is read inside a write
 * transaction, so two processes opening an old file at once upgrade it once. Returns the version found.
 */
export function migrateCallLog(db: Database.Database, pending: readonly Migration[] = migrations): number {
  const found = currentVersion(db);
  if (found > schemaVersion) throw new CallLogSchemaError('NEWER_SCHEMA', `written by a newer Veilphone (schema ${found} > ${schemaVersion})`);
  for (const migration of pending) {
    if (migration.version <= found) continue;
    apply(db, migration);
  }
  return found;
}

function currentVersion(db: Database.Database): number {
  return Number(db.pragma('user_version', { simple: true }));
}

function apply(db: Database.Database, migration: Migration): void {
  // PRAGMA foreign_keys is a no-op inside a transaction, so it is switched around it.
  if (migration.rebuildsTables) db.pragma('foreign_keys = OFF');
  try {
    db.transaction(() => {
      if (currentVersion(db) >= migration.version) return; // another process got here first
      for (const statement of migration.statements) db.exec(statement);
      migration.rewrite?.(db);
      if (migration.rebuildsTables) {
        const broken = db.pragma('foreign_key_check') as unknown[];
        if (broken.length > 0) throw new Error(`${broken.length} rows would break a foreign key`);
      }
      if (!migration.scrubs) db.pragma(`user_version = ${migration.version}`);
    }).immediate();
    if (migration.scrubs && currentVersion(db) < migration.version) scrub(db, migration.version);
  } catch (error) {
    throw new CallLogSchemaError('MIGRATION_FAILED', `upgrading to schema ${migration.version} (${migration.description}) failed: ${(error as Error).message}`);
  } finally {
    if (migration.rebuildsTables) db.pragma('foreign_keys = ON');
  }
}

/**
 * After a scrubbing rewrite, the old values survive the UPDATE in the file: in freed space, in freed pages, and as
 * divider keys in the interior pages of a WITHOUT ROWID table's b-tree (which hold whole rows and are not rewritten
 * when a non-key column changes; measured: 11 of 141 copies remained with `secure_delete` on). VACUUM rebuilds every
 * page (https://sqlite.org/lang_vacuum.html); the checkpoint then copies the new pages over the main file and cuts the
 * WAL to nothing (while another process reads the file, its next checkpoint finishes that). Only then does the
 * version move: a crash before leaves the file at the old version, and the next open runs the idempotent rewrite and
 * this again.
 */
function scrub(db: Database.Database, version: number): void {
  db.exec('VACUUM');
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.pragma(`user_version = ${version}`);
}
