import { PhoneError } from '../api/phone-error.js';
import type { AccountConfig, HouseholdAccount, HouseholdTerminalStatus } from '../api/phone-types.js';
import { HouseholdError } from '../household/household-error.js';
import type { HouseholdTerminal, HouseholdTerminalOptions } from './household-phone.js';

/** An account change with a household allocation in hand: `commit` once the account is in, `abort` if it is not. */
export interface PreparedHouseholdAccount {
  config: AccountConfig;
  /** The account now runs on the allocation: an earlier one it replaced is given back (Fig. 8 step 84). */
  commit(): Promise<void>;
  /** The change was refused after all: a new allocation is given back, the earlier one kept. */
  abort(): Promise<void>;
}

export interface HouseholdAccountsOptions {
  /** Where the terminals' leases are kept between runs (a restarted terminal asks for its address again). */
  dataDir?: string;
  /** The allocation request (tests give the lab's timing). */
  allocate?: (options: HouseholdTerminalOptions) => Promise<HouseholdTerminal>;
}

/**
 * The phone's accounts in "household terminal" mode (seed 001 Fig. 8, issue 20): an account naming a room gateway gets
 * its address and number from it (steps 81, 86-87) before it is added, keeps that allocation while it exists, and gives
 * it back (the deletion request, steps 82, 84-85) when it is removed, changed to another room, or the phone stops.
 */
export class HouseholdAccounts {
  private readonly held = new Map<string, { wanted: HouseholdAccount; terminal: HouseholdTerminal }>();

  constructor(private readonly options: HouseholdAccountsOptions = {}) {}

  /** A terminal the host allocated itself (`veilphone serve --household`): shown, and given back with the phone. */
  adopt(accountId: string, wanted: HouseholdAccount, terminal: HouseholdTerminal): void {
    this.held.set(accountId, { wanted, terminal });
  }

  /**
   * The account as it will run: a household account filled in from its allocation (the one it holds when the gateway
   * and room are unchanged, otherwise a new one). LEASE_FAILED when the gateway allots nothing; INVALID_ARGUMENT when
   * the gateway's room is not the one the account names.
   */
  async prepare(config: AccountConfig): Promise<PreparedHouseholdAccount> {
    const previous = this.held.get(config.id);
    const wanted = config.household;
    if (!wanted) {
      return { config, commit: () => this.release(config.id), abort: async () => undefined };
    }
    if (previous && previous.wanted.gateway === wanted.gateway && previous.wanted.room === wanted.room) {
      return { config: filled(config, previous.terminal), commit: async () => undefined, abort: async () => undefined };
    }
    const terminal = await this.allocate(wanted);
    return {
      config: filled(config, terminal),
      commit: async () => {
        this.held.set(config.id, { wanted, terminal });
        if (previous) await previous.terminal.release();
      },
      abort: () => terminal.release(),
    };
  }

  /** Fig. 8 steps 82, 84-85: the account is gone; its address and number go back to the room. */
  async release(accountId: string): Promise<void> {
    const held = this.held.get(accountId);
    if (!held) return;
    this.held.delete(accountId);
    await held.terminal.release();
  }

  async releaseAll(): Promise<void> {
    await Promise.allSettled([...this.held.keys()].map((id) => this.release(id)));
  }

  status(): HouseholdTerminalStatus[] {
    return [...this.held].map(([accountId, { terminal }]) => ({ accountId, ...terminal.household }));
  }

  private async allocate(wanted: HouseholdAccount): Promise<HouseholdTerminal> {
    const endpoint = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(wanted.gateway);
    // loaded only when an account is a household terminal: the lease client stays out of every other start-up
    const allocate = this.options.allocate ?? (await import('./household-phone.js')).allocateHouseholdTerminal;
    let terminal: HouseholdTerminal;
    try {
      terminal = await allocate({
        ...(endpoint ? { gateway: { address: endpoint[1]!, port: Number(endpoint[2]) } } : { interface: wanted.gateway }),
        ...(this.options.dataDir !== undefined ? { dataDir: this.options.dataDir } : {}),
      });
    } catch (error) {
      if (error instanceof HouseholdError) throw new PhoneError('LEASE_FAILED', error.message);
      throw error;
    }
    if (terminal.household.room !== wanted.room) {
      await terminal.release();
      throw new PhoneError('INVALID_ARGUMENT', `household.room: the gateway ${wanted.gateway} serves room ${terminal.household.room}, not ${wanted.room}`);
    }
    return terminal;
  }
}

/** The account with what the allocation decided: the number as user, the gateway as server, the allotted address. */
function filled(config: AccountConfig, terminal: HouseholdTerminal): AccountConfig {
  const { account } = terminal;
  return { ...config, user: account.user!, server: account.server!, transport: 'udp', localAddress: account.localAddress!, ...(account.domain !== undefined ? { domain: account.domain } : {}) };
}
