import { PhoneError } from '../api/phone-error.js';
import { maskedPassword, type AccountConfig, type PhoneSettings } from '../api/phone-types.js';
import { AccountStore } from './account-store.js';
import type { CallControl } from './call-control.js';
import { masked, serverEndpoint, type AccountRuntime, type PhoneAccounts } from './phone-accounts.js';
import type { HouseholdAccounts } from './household-accounts.js';
import type { EmitPhoneEvent } from './phone-events.js';
import type { SecretSealer } from './secret-sealer.js';

export interface AccountSettingsOptions {
  /** The settings file; without it accounts changed in the settings view live in memory only. */
  settingsFile?: string;
  secretSealer?: SecretSealer;
  accounts: PhoneAccounts;
  calls: CallControl;
  /** Adds an account to the phone (its identities, failover and all). */
  addAccount: (config: AccountConfig) => void;
  /** REGISTER an account in the background (its errors become error events). */
  registerAgain: (accountId: string) => void;
  /** The account of that id, refused when the phone is shut down. */
  account: (accountId: string) => AccountRuntime;
  stopped: () => boolean;
  emit: EmitPhoneEvent;
  /** Household terminals (seed 001): their allocations, asked for before such an account is added. */
  household: HouseholdAccounts;
}

/**
 * Account changes from the settings view: the settings file loaded at start and written on every change, each change
 * re-creating its account, one at a time.
 */
export class AccountSettings {
  private readonly store?: AccountStore;
  /** Accounts the settings file holds (loaded from it, or saved through update). */
  private readonly storedIds = new Set<string>();
  private settingsQueue: Promise<unknown> = Promise.resolve();
  /** Why stored accounts could not be loaded (reported once a host subscribes, and by `settingsProblems`). */
  readonly problems: string[] = [];

  constructor(private readonly options: AccountSettingsOptions) {
    if (options.settingsFile !== undefined) this.store = new AccountStore(options.settingsFile, options.secretSealer);
  }

  /** Add the stored accounts; an account of the host's command line (already added) wins over a stored one of its id. */
  loadStored(): void {
    if (!this.store) return;
    const stored = this.store.load();
    this.problems.push(...stored.problems);
    for (const config of stored.accounts) {
      if (this.options.accounts.has(config.id)) continue;
      if (config.household) {
        // its allocation is asked for again (asynchronously): the address it had may be another terminal's now
        this.storedIds.add(config.id);
        void this.update(config).catch((error: Error) => {
          this.storedIds.delete(config.id);
          this.problems.push(`stored account ${config.id}: ${error.message}`);
          this.options.emit({ type: 'error', code: error instanceof PhoneError ? error.code : 'LEASE_FAILED', message: `household terminal ${config.id}: ${error.message}` });
        });
        continue;
      }
      try {
        this.options.addAccount(config);
        this.storedIds.add(config.id);
      } catch (error) {
        this.problems.push(`stored account ${config.id}: ${(error as Error).message}`);
      }
    }
  }

  settings(): PhoneSettings {
    return { accounts: this.options.accounts.all().map((a) => masked(a.config)), storage: this.store ? 'file' : 'memory' };
  }

  update(input: AccountConfig): Promise<AccountConfig> {
    return this.serialized(async () => {
      if (this.options.stopped()) throw new PhoneError('INVALID_STATE', 'the phone has been shut down');
      const existing = this.options.accounts.find(input.id);
      const config: AccountConfig = { ...input };
      // The settings view never sees a stored password: the mask (or nothing) keeps it, an empty one removes it.
      if (config.password === maskedPassword || config.password === undefined) {
        if (existing?.config.password !== undefined) config.password = existing.config.password;
        else delete config.password;
      } else if (config.password === '') delete config.password;
      if (this.options.calls.hasCallsOf(config.id)) throw new PhoneError('INVALID_STATE', `account ${config.id} has calls; change it after they end`);
      // seed 001 Fig. 8 steps 81, 86-87: a household terminal's number, gateway and address come from its allocation
      const prepared = await this.options.household.prepare(config);
      const ready = prepared.config;
      if (this.options.stopped()) {
        await prepared.abort(); // the phone stopped while the gateway answered: the allocation goes straight back
        throw new PhoneError('INVALID_STATE', 'the phone has been shut down');
      }
      const order = this.options.accounts.ids();
      try {
        serverEndpoint(ready, ready.server); // a bad server is refused before the old account is torn down
        if (existing) await this.options.accounts.retire(existing);
        this.options.addAccount(ready);
      } catch (error) {
        await prepared.abort();
        throw error;
      }
      await prepared.commit();
      if (existing) this.options.accounts.reorder(order);
      this.storedIds.add(config.id);
      this.save();
      this.options.emit({ type: 'registration', registration: { ...this.options.accounts.get(config.id).registration } });
      this.options.registerAgain(config.id);
      return masked(ready);
    });
  }

  remove(accountId: string): Promise<void> {
    return this.serialized(async () => {
      const account = this.options.account(accountId);
      if (this.options.calls.hasCallsOf(accountId)) throw new PhoneError('INVALID_STATE', `account ${accountId} has calls; remove it after they end`);
      await this.options.accounts.retire(account);
      await this.options.household.release(accountId); // Fig. 8 step 84: the deletion request
      this.storedIds.delete(accountId);
      this.save();
      this.options.emit({ type: 'registration', registration: { accountId, state: 'unregistered' } });
    });
  }

  /** Settings changes one at a time: each re-creates an account, which must not interleave with another. */
  serialized<T>(action: () => Promise<T>): Promise<T> {
    const next = this.settingsQueue.then(action, action);
    this.settingsQueue = next.catch(() => undefined); // the queue only orders: each change's error goes to its caller
    return next;
  }

  private save(): void {
    if (!this.store) return;
    this.store.save(this.options.accounts.all().filter((a) => this.storedIds.has(a.config.id)).map((a) => a.config));
  }
}
