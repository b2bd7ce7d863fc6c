import fs from 'node:fs';
import path from 'node:path';
import { PhoneError } from '../api/phone-error.js';
import type { AccountConfig } from '../api/phone-types.js';
import { checkAccountConfig } from './account-config-check.js';

/** What a settings file held: the accounts that passed the checks, and why the others were dropped. */
export interface StoredAccounts {
  accounts: AccountConfig[];
  problems: string[];
}

interface SettingsFile {
  version: 1;
  accounts: unknown[];
}

/** Where the settings view's accounts live inside a data dir. */
export function settingsPath(dataDir: string): string {
  return path.join(dataDir, 'settings.json');
}

/**
 * The accounts the user saved in the settings view, as one JSON file in the data dir. Written atomically (a temporary
 * file renamed over the old one, so a crash leaves the old or the new file, never half of one) and readable by the
 * user only, because it holds digest passwords. A damaged file or entry is reported, never fatal.
 */
export class AccountStore {
  constructor(readonly file: string) {}

  load(): StoredAccounts {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { accounts: [], problems: [] };
      return { accounts: [], problems: [`cannot read ${this.file}: ${(error as Error).message}`] };
    }
    let parsed: Partial<SettingsFile>;
    try {
      parsed = JSON.parse(text) as Partial<SettingsFile>;
    } catch (error) {
      return { accounts: [], problems: [`${this.file} is not JSON: ${(error as Error).message}`] };
    }
    if (typeof parsed !== 'object' || parsed === null || parsed.version !== 1 || !Array.isArray(parsed.accounts)) {
      return { accounts: [], problems: [`${this.file} is not a version 1 settings file`] };
    }
    const accounts: AccountConfig[] = [];
    const problems: string[] = [];
    for (const [i, entry] of parsed.accounts.slice(0, 64).entries()) {
      try {
        const account = checkAccountConfig(entry);
        if (accounts.some((a) => a.id === account.id)) throw new PhoneError('INVALID_ARGUMENT', `account id "${account.id}" appears twice`);
        accounts.push(account);
      } catch (error) {
        problems.push(`${this.file}: account ${i + 1} dropped: ${(error as Error).message}`);
      }
    }
    return { accounts, problems };
  }

  save(accounts: AccountConfig[]): void {
    const body: SettingsFile = { version: 1, accounts };
    const temporary = `${this.file}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      fs.writeFileSync(temporary, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
      fs.renameSync(temporary, this.file);
    } catch (error) {
      fs.rmSync(temporary, { force: true });
      throw new PhoneError('STORAGE_FAILED', `cannot save the settings: ${(error as Error).message}`);
    }
  }
}
