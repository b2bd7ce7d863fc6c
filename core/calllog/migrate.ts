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
      if (migration.rebuildsTables) {
        const broken = db.pragma('foreign_key_check') as unknown[];
        if (broken.length > 0) throw new Error(`${broken.length} rows would break a foreign key`);
      }
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  } catch (error) {
    throw new CallLogSchemaError('MIGRATION_FAILED', `upgrading to schema ${migration.version} (${migration.description}) failed: ${(error as Error).message}`);
  } finally {
    if (migration.rebuildsTables) db.pragma('foreign_keys = ON');
  }
}
