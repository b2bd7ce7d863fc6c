import fs from 'node:fs';
import path from 'node:path';
import { PhoneError } from '../api/phone-error.js';
import type { AccountConfig } from '../api/phone-types.js';
import { createPrivateDir, writePrivateFileAtomic } from '../files/private-files.js';
import { checkAccountConfig } from './account-config-check.js';
import type { SecretSealer } from './secret-sealer.js';

/** What a settings file held: the accounts that passed the checks, and why the others were dropped. */
export interface StoredAccounts {
  accounts: AccountConfig[];
  problems: string[];
}

interface SettingsFile {
  version: 1;
  accounts: unknown[];
}

/** How a password sits in the file when a keychain sealed it: `{ scheme, data }` (base64) instead of `password`. */
interface SealedPassword {
  scheme: string;
  data: string;
}

/** The settings file's name inside a data dir. */
export const settingsFileName = 'settings.json';

/** Where the settings view's accounts live inside a data dir. */
export function settingsPath(dataDir: string): string {
  return path.join(dataDir, settingsFileName);
}

/**
 * The accounts the user saved in the settings view, as one JSON file in the data dir. Written atomically (a temporary
 * file renamed over the old one, so a crash leaves the old or the new file, never half of one) and readable by the
 * user only. Digest passwords are sealed by the OS keychain when the host has one (`sealer`); a password stored in
 * the clear by an earlier version is sealed at the next save. A damaged file or entry is reported, never fatal; a
 * password that cannot be unsealed here (no keyring in this session, say) is reported, the account runs without it,
 * and the sealed value is written back unchanged until the user gives a new password.
 */
export class AccountStore {
  /** Sealed passwords this host could not open, by account id: written back unchanged so nothing is lost. */
  private readonly unopened = new Map<string, SealedPassword>();

  constructor(
    readonly file: string,
    private readonly sealer?: SecretSealer,
  ) {}

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
        const account = checkAccountConfig(this.unsealed(entry, i, problems));
        if (accounts.some((a) => a.id === account.id)) throw new PhoneError('INVALID_ARGUMENT', `account id "${account.id}" appears twice`);
        accounts.push(account);
      } catch (error) {
        problems.push(`${this.file}: account ${i + 1} dropped: ${(error as Error).message}`);
      }
    }
    return { accounts, problems };
  }

  save(accounts: AccountConfig[]): void {
    let stored: unknown[];
    try {
      stored = accounts.map((account) => this.sealed(account));
    } catch (error) {
      throw new PhoneError('STORAGE_FAILED', `cannot seal a password with ${this.sealer!.scheme}: ${(error as Error).message}`);
    }
    const body: SettingsFile = { version: 1, accounts: stored };
    try {
      createPrivateDir(path.dirname(this.file));
      writePrivateFileAtomic(this.file, `${JSON.stringify(body, null, 2)}\n`);
    } catch (error) {
      throw new PhoneError('STORAGE_FAILED', `cannot save the settings: ${(error as Error).message}`);
    }
  }

  /** The account as the file keeps it: its password sealed when a keychain is there. */
  private sealed(account: AccountConfig): unknown {
    const kept = this.unopened.get(account.id);
    if ((account.password === undefined || account.password === '') && kept) return { ...account, sealedPassword: kept };
    if (account.password === undefined || account.password === '' || !this.sealer?.available()) return account;
    const { password, ...rest } = account;
    const sealedPassword: SealedPassword = { scheme: this.sealer.scheme, data: this.sealer.seal(password).toString('base64') };
    return { ...rest, sealedPassword };
  }

  /** A stored entry with its sealed password opened (or left out, with the reason in `problems`). */
  private unsealed(entry: unknown, index: number, problems: string[]): unknown {
    if (typeof entry !== 'object' || entry === null || !('sealedPassword' in entry)) return entry;
    const { sealedPassword, ...rest } = entry as { sealedPassword: unknown } & Record<string, unknown>;
    const sealed = sealedPassword as Partial<SealedPassword> | null;
    if (typeof sealed !== 'object' || sealed === null || typeof sealed.scheme !== 'string' || typeof sealed.data !== 'string') {
      problems.push(`${this.file}: account ${index + 1}: its password is damaged; enter it again`);
      return rest;
    }
    const why = (reason: string): unknown => {
      problems.push(`${this.file}: account ${index + 1}: its password ${reason}; it is kept sealed, and the account runs without it`);
      if (typeof rest.id === 'string') this.unopened.set(rest.id, { scheme: sealed.scheme!, data: sealed.data! });
      return rest;
    };
    if (!this.sealer || sealed.scheme !== this.sealer.scheme || !this.sealer.available()) return why(`was sealed by ${sealed.scheme.slice(0, 32)}, which is not available here`);
    try {
      return { ...rest, password: this.sealer.open(Buffer.from(sealed.data, 'base64')) };
    } catch (error) {
      return why(`cannot be unsealed (${(error as Error).message})`);
    }
  }
}
