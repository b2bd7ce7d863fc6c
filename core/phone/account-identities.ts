import { setMaxListeners } from 'node:events';
import { PhoneError } from '../api/phone-error.js';
import type { AddressEvent } from '../api/phone-types.js';
import type { OwnershipJournal } from '../address/address-journal.js';
import type { LeasedAddress, TemporaryAddressManager } from '../address/temporary-address-manager.js';
import { SipIdentityError, type SipIdentity } from '../sip/sip-identity.js';
import type { SipCall } from '../sip/sip-call.js';
import type { Endpoint, SipTransportKind } from '../sip/transport/endpoint.js';
import type { FailedStep } from './failure-tally.js';
import type { FailedUnregistration } from './unremoved-bindings.js';

export type IdentityPurpose = 'fixed' | 'sending' | 'receiving';

/** What the phone builds for one identity: where its socket binds and which address it writes into messages. */
export interface IdentityPlacement {
  purpose: IdentityPurpose;
  bindAddress: string;
  advertisedAddress: string;
  /** The server it talks to, when not the account's current one (a binding an earlier run left at another). */
  server?: Endpoint;
}

export interface AccountIdentitiesOptions {
  accountId: string;
  aor: string;
  server: Endpoint;
  transport: SipTransportKind;
  /** Opens (does not register) an identity at that placement. */
  open: (placement: IdentityPlacement) => Promise<SipIdentity>;
  /** The OS source address toward the server (fixed mode, and the socket of signalling-only addresses). */
  sourceAddress: () => Promise<string>;
  /** Temporary mode: the one-time address manager (made on first use), and the journal the bindings go to. */
  addresses?: () => Promise<TemporaryAddressManager>;
  journal?: OwnershipJournal;
  onAddress?: (event: AddressEvent) => void;
  /** Temporary mode: use the fixed identity when no one-time address can be had (the account's `fallback: fixed`). */
  fallbackToFixed?: boolean;
  /** Obtain and register the next sending address in the background after each outgoing call starts. */
  prepareAhead?: boolean;
  /** No one-time address could be had (reported whether or not the fixed identity stood in). */
  onAddressProblem?: (message: string) => void;
  /** Counts a best-effort step that failed (an address not given back, an identity not disposed). */
  failed: FailedStep;
  /**
   * How long a shutdown waits for the registrar to answer the unregistrations still under way (default 4 s, 8·T1):
   * a registrar that stays silent is taken to be gone, and the bindings not confirmed stay in the journal.
   */
  shutdownGraceMs?: number;
  /**
   * A one-time binding the registrar did not confirm removing (refused, or silent): it may be left at the server, and
   * the phone reports it (unremoved-bindings.ts). Not after a failover: that server is gone.
   */
  onUnregisterFailed?: (binding: FailedUnregistration) => void;
}

/** A registration an identity of the account may have left at a server it stopped talking to (a failover). */
export interface LeftBinding {
  contact: string;
  /** The ownership journal's entry of a one-time binding. */
  bindingId?: number;
}

/** The longest a new call waits for the previous call's sending address to be unregistered and discarded. */
const finishWaitMs = 3000;

/** An identity lent to one outgoing call; finish() when the call has ended. */
export interface CallIdentity {
  identity: SipIdentity;
  address: string;
  finish(): Promise<void>;
}

interface TemporaryIdentity {
  identity: SipIdentity;
  address: LeasedAddress;
  bindingId?: number;
}

/**
 * The SIP identities of one account (ARCHITECTURE.md: each identity is its own UserAgent). With a fixed address, one
 * identity does everything. With one-time addresses (seed 000 Fig. 28): a receiving identity on its own address,
 * registered at login and replaced after every received call; and per outgoing call a sending identity on a fresh
 * address — REGISTER with that Contact, INVITE, and after the call REGISTER Expires: 0, dispose, discard the address.
 * Every binding is journalled before it is made and struck after it is removed.
 */
export class AccountIdentities {
  private fixed?: SipIdentity;
  private opening?: Promise<SipIdentity>;
  private receiving?: TemporaryIdentity;
  private readonly retired = new Set<TemporaryIdentity>();
  /** Identities being unregistered and disposed right now. */
  private readonly leaving = new Set<SipIdentity>();
  /** Each retirement begun, by identity: a second `retire` of one joins the first. */
  private readonly retirements = new WeakMap<TemporaryIdentity, Promise<void>>();
  private readonly sending = new Set<TemporaryIdentity>();
  /** Receiving identities whose registration is the account's (the current one, and its successor while it registers). */
  private readonly speakers = new Set<SipIdentity>();
  private rotating?: Promise<void>;
  /**
   * The receiving identity whose call just ended, while its successor is obtained and registered: seed 000 discards
   * the address "at the end of the conversation", so it takes no second call, though it stays registered until the new
   * one is (make before break: a forking registrar reaches the new one the moment it registers).
   */
  private spent?: SipIdentity;
  /** Receiving identities a call on which has ended: spent, to be replaced (seed 000 Fig. 29). */
  private readonly callEndedOn = new WeakSet<SipIdentity>();
  private preparedSending?: Promise<TemporaryIdentity>;
  /** Sending identities of ended calls being unregistered and discarded: the next sending address waits for them. */
  private readonly finishing = new Set<Promise<void>>();
  /** Outgoing calls being given an identity (forCall): not among the live calls until their INVITE is made. */
  private readonly placing = new Set<Promise<unknown>>();
  /** Removals of bindings an earlier run left (removeLeftBindings), one after another. */
  private removals: Promise<void> = Promise.resolve();
  /** Every retirement under way, whoever began it: a shutdown ends only after all of them. */
  private readonly retiring = new Set<Promise<void>>();
  /** One-time identities being opened (an address leased, a socket bound): a shutdown waits for them, then gives them up. */
  private readonly arriving = new Set<Promise<unknown>>();
  private disposed = false;
  private disposing?: Promise<LeftBinding[]>;
  /** Left by the account (callsOver): no new call. */
  private closing = false;
  /** During a failback attempt: the identities still registered at the server being left, which take calls meanwhile. */
  former?: AccountIdentities;
  private serverGone = false;
  /** With `serverGone`: the bindings its identities were not allowed to undo (dispose resolves with them). */
  private readonly leftBehind: LeftBinding[] = [];
  /** Aborted a grace after a shutdown's unregistrations began: those still waiting for an answer stop waiting. */
  private readonly shutdownCutoff = cutoffController();

  constructor(private readonly options: AccountIdentitiesOptions) {}

  get temporary(): boolean {
    return this.options.addresses !== undefined;
  }

  /** The identity that registers the account and receives its calls. */
  async receivingIdentity(): Promise<SipIdentity> {
    if (!this.temporary) return this.fixedIdentity();
    if (this.rotating) await this.rotating;
    if (this.receiving) return this.receiving.identity;
    try {
      this.receiving = await this.stillWanted(await this.openTemporary('receiving'));
    } catch (error) {
      return this.fallBack(error);
    }
    this.speakers.add(this.receiving.identity);
    return this.receiving.identity;
  }

  /** The identity that holds the account's registration now, if one is open (keep-alives go through it). */
  get registeredIdentity(): SipIdentity | undefined {
    return this.temporary ? this.receiving?.identity : this.fixed;
  }

  /**
   * Whether a new call may start on this identity: not on one-time addresses that are being given up (a receiving one
   * from the end of its call on, or any going with the account). An INVITE still reaching them — a forking registrar that had not yet processed
   * their unregistration — is answered 480, so the call goes on at the account's current address.
   */
  takesCalls(identity: SipIdentity): boolean {
    if (this.closing || this.leaving.has(identity) || this.spent === identity) return false;
    for (const old of this.retired) if (old.identity === identity) return false;
    if (this.speakers.has(identity) || this.held().includes(identity)) return true;
    // not this set's: those the account is leaving for these (a failback under way) take calls until it is settled;
    // those of a server it left (kept for a call still up there) take none
    return this.former?.takesCalls(identity) ?? false;
  }

  /** Whether this identity's registration state is the account's (not a per-call or retired one). */
  speaksFor(identity: SipIdentity): boolean {
    return identity === this.fixed || this.speakers.has(identity);
  }

  /** No one-time address: say why, then use the fixed identity if the account allows it, else fail. */
  private async fallBack(error: unknown): Promise<SipIdentity> {
    const problem = asPhoneError(error);
    if (problem.code !== 'ADDRESS_FAILED') throw problem;
    // A shutdown that began while the address was being sought has taken stock without the fixed identity: opened
    // now, it would place the call (or register) after the shutdown, from an identity nothing disposes.
    if (this.disposed) throw shutDown();
    this.options.onAddressProblem?.(problem.message);
    if (!this.options.fallbackToFixed) throw problem;
    return this.fixedIdentity();
  }

  /** REGISTER the receiving identity (the fixed one, or the current one-time receiving address). */
  async register(): Promise<void> {
    if (this.temporary && this.options.prepareAhead && !(await this.oneAtATime())) this.prepareNextSending();
    const identity = await this.receivingIdentity();
    const temporary = this.receiving?.identity === identity ? this.receiving : undefined;
    try {
      if (temporary) this.journalBinding(temporary);
      await identity.register();
    } catch (error) {
      if (temporary && this.receiving === temporary) this.receiving = undefined;
      // no longer the account's voice before it is retired: its unregistration's "unregistered" would hide why the
      // REGISTER failed (a wrong password read as a lost registration, which keep-alives then try again)
      if (temporary) this.speakers.delete(temporary.identity);
      if (temporary) await this.retire(temporary);
      throw asPhoneError(error);
    }
  }

  async unregister(): Promise<void> {
    if (!this.temporary) {
      await this.fixed?.unregister();
      return;
    }
    if (this.rotating) await this.rotating.catch(() => undefined); // its error went to the call that ended
    const receiving = this.receiving;
    this.receiving = undefined;
    if (!receiving) return;
    await this.retire(receiving);
    this.speakers.delete(receiving.identity);
  }

  /**
   * The identity an outgoing call goes out on. During a failback attempt, one of the identities still registered at the
   * server being left: the attempt may be undone (the primary refuses the REGISTER), and a call on the new identities
   * would end with them; on the old ones it goes on to its end, whichever way the attempt goes.
   */
  forCall(): Promise<CallIdentity> {
    if (this.former) return this.former.forCall();
    const placing = this.identityForCall();
    this.placing.add(placing);
    const done = (): void => void this.placing.delete(placing);
    placing.then(done, done);
    return placing;
  }

  private async identityForCall(): Promise<CallIdentity> {
    if (!this.temporary) {
      const identity = await this.fixedIdentity();
      return { identity, address: identity.local.address, finish: async () => undefined };
    }
    if (await this.oneAtATime()) return this.forCallOnTheOneAddress();
    let sending: TemporaryIdentity;
    try {
      sending = await this.takeSending();
    } catch (error) {
      const identity = await this.fallBack(error);
      return { identity, address: identity.advertisedAddress, finish: async () => undefined };
    }
    return {
      identity: sending.identity,
      address: sending.address.address,
      finish: async () => {
        // A shutdown whose hang-up grace ran out has retired it already (dispose): once is enough.
        if (!this.sending.delete(sending)) return;
        const retiring = this.retire(sending); // Fig. 28 steps 514-515: erase the registration, discard the address
        this.finishing.add(retiring);
        await retiring.finally(() => this.finishing.delete(retiring));
        // The next one is prepared while the phone is idle, never while a call is being set up; none for identities
        // the account has left
        if (this.options.prepareAhead && !this.closing) this.prepareNextSending();
      },
    };
  }

  /**
   * An IPv4 phone (seed 000: "the IPv4 telephone set has either of them"): its one address, registered, receives calls
   * and places them. After each call it is unregistered and given back, and only then is the next one leased and
   * registered — so the phone never holds two, and consecutive calls come from different addresses.
   */
  private async forCallOnTheOneAddress(): Promise<CallIdentity> {
    const identity = await this.receivingIdentity();
    const current = this.receiving;
    if (current?.identity !== identity) return { identity, address: identity.advertisedAddress, finish: async () => undefined }; // fell back to fixed
    if (identity.registrationState !== 'registered') await this.register(); // Fig. 28 step 509 before the INVITE
    return { identity, address: current.address.address, finish: () => this.afterCallOnTheOneAddress(identity) };
  }

  /** A call on the one address ended: once no call uses it any more, replace it (unregister, release, lease anew). */
  private async afterCallOnTheOneAddress(identity: SipIdentity): Promise<void> {
    const current = this.receiving;
    if (this.disposed || current?.identity !== identity || this.rotating) return;
    if ([...identity.calls].some((call) => call.state !== 'terminated')) return; // the last call to end replaces it
    this.rotating = this.replaceOne(current).finally(() => (this.rotating = undefined));
    await this.rotating;
  }

  /** Seed 000 steps 514-515, then 504-509 for the next call: the old address goes before the new one comes. */
  private async replaceOne(current: TemporaryIdentity): Promise<void> {
    this.receiving = undefined;
    this.speakers.delete(current.identity);
    await this.retire(current);
    if (this.disposed) return;
    const next = await this.openTemporary('receiving');
    this.speakers.add(next.identity);
    try {
      this.journalBinding(next);
      await next.identity.register();
    } catch (error) {
      this.speakers.delete(next.identity);
      await this.retire(next);
      throw asPhoneError(error);
    }
    this.receiving = next;
  }

  private single?: boolean;

  /** Whether this account holds one address at a time (IPv4 from an address server, seed 000). */
  holdsOneAddressAtATime(): Promise<boolean> {
    return this.oneAtATime();
  }

  /** Whether the account's addresses come one at a time (IPv4 from an address server). */
  private async oneAtATime(): Promise<boolean> {
    if (!this.temporary) return false;
    this.single ??= (await this.options.addresses!()).oneAtATime;
    return this.single;
  }

  /** A registered sending identity: the one prepared ahead, or a new one now (Fig. 28 steps 503-509). */
  private async takeSending(): Promise<TemporaryIdentity> {
    const prepared = this.preparedSending;
    this.preparedSending = undefined;
    if (prepared) {
      const ready = await prepared.catch(() => undefined); // a failed preparation: a new one now, whose error is reported
      if (ready && ready.identity.registrationState === 'registered' && !ready.identity.isDisposed) return ready;
      if (ready) await this.retire(ready);
    }
    return this.newSending();
  }

  private async newSending(): Promise<TemporaryIdentity> {
    await this.previousSendingGone();
    const sending = await this.stillWanted(await this.openTemporary('sending'));
    this.sending.add(sending);
    try {
      this.journalBinding(sending);
      await sending.identity.register(); // Fig. 28 step 509: register the temporary address before the INVITE
    } catch (error) {
      // REGISTER refused: the call is not placed and the address goes (issue 5, "bad input and faults").
      this.sending.delete(sending);
      await this.retire(sending);
      throw asPhoneError(error);
    }
    return sending;
  }

  /**
   * One sending address at a time: a call dialled right after another waits until the last call's address is
   * unregistered and gone from the interface (Fig. 28 steps 514-515 before step 503 of the next call), so two calls'
   * addresses are never seen together. Bounded: an unregistration the server does not answer (up to 64·T1) does not
   * hold the next call up for longer than `finishWaitMs`.
   */
  private async previousSendingGone(): Promise<void> {
    const deadline = Date.now() + finishWaitMs;
    while (this.sendingStillGoing() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  /** A sending address whose call has ended but which is not discarded yet (its finish() may not even have begun). */
  private sendingStillGoing(): boolean {
    if (this.finishing.size > 0) return true;
    for (const { identity } of this.sending) {
      if (identity.calls.size > 0 && [...identity.calls].every((call) => call.state === 'terminated')) return true;
    }
    return false;
  }

  /**
   * `prepare: ahead`: the next call's address is obtained and registered in the background, so dialling goes straight
   * to the INVITE. The order of Fig. 28 holds for every call; only its first steps happen before the user dials.
   */
  private prepareNextSending(): void {
    if (this.preparedSending || this.disposed || this.serverGone) return;
    const next = this.newSending();
    next.catch(() => undefined); // a failed preparation is redone at the next dial, where its error is reported
    this.preparedSending = next;
  }

  /**
   * A call received on `identity` ended. In temporary mode its address is spent: a new receiving address is obtained
   * and registered at once, then the old one unregistered and discarded (once no other call still uses it).
   */
  async incomingEnded(identity: SipIdentity): Promise<void> {
    if (!this.temporary || this.disposed) return;
    if (await this.oneAtATime()) return this.afterCallOnTheOneAddress(identity);
    this.callEndedOn.add(identity);
    // One replacement at a time. A call can reach the new address, and end, before its replacement is over (the
    // registrar routes to it once it registered): that address is spent too, and replaced once the first is done.
    while (!this.disposed) {
      if (this.rotating) {
        await this.rotating.catch(() => undefined); // its error went to the call that began it
        continue;
      }
      const current = this.receiving;
      if (!current || !this.callEndedOn.has(current.identity)) break;
      this.rotating = this.rotate(current).finally(() => (this.rotating = undefined));
      await this.rotating;
    }
    for (const old of [...this.retired]) if (old.identity.calls.size === 0) await this.finishRetired(old);
  }

  /**
   * SPEC B after a crash, and seed 003 failback: erase the bindings an earlier run or identity left at `server`
   * (REGISTER Expires: 0 for each stale Contact, RFC 3261 §10.2.2) from a throwaway identity: on one-time addresses a
   * fresh one, given up afterwards — never another address of ours, since the REGISTER names the old Contact and would
   * tie it to whichever address sent it (the host's, or a later call's); on a fixed address the account's own address.
   * One identity for all of them, asked in turn, so an IPv4 account still holds one address at a time (Fig. 28); a
   * registrar silent for `waitMs` (default 8·T1) is not asked the rest, and a shutdown cuts the wait short. The identity
   * takes no call, and a shutdown waits for it to go. Resolves with each answer, in order (undefined: none came, or no
   * address could be had).
   */
  async removeLeftBindings(contacts: readonly string[], server: Endpoint = this.options.server, waitMs = this.options.shutdownGraceMs ?? 4000): Promise<Array<number | undefined>> {
    const answers: Array<number | undefined> = contacts.map(() => undefined);
    if (contacts.length === 0 || this.disposed) return answers;
    // one server's after another's: an IPv4 account holds one address at a time, whatever servers hold its bindings
    const removal = this.removals.then(() => this.removeFromThrowaway(contacts, server, waitMs, answers));
    this.removals = removal.catch(() => undefined);
    this.retiring.add(removal);
    try {
      await removal;
    } finally {
      this.retiring.delete(removal);
    }
    return answers;
  }

  private async removeFromThrowaway(contacts: readonly string[], server: Endpoint, waitMs: number, answers: Array<number | undefined>): Promise<void> {
    if (this.disposed) return; // queued behind another removal while the account went: nothing more is opened
    let cleaner: { identity: SipIdentity; address?: LeasedAddress };
    try {
      if (this.temporary) {
        cleaner = await this.openTemporary('sending', server);
      } else {
        const address = await this.options.sourceAddress();
        cleaner = { identity: await this.options.open({ purpose: 'fixed', bindAddress: address, advertisedAddress: address, server }) };
      }
    } catch (error) {
      if (!this.disposed) this.options.failed('opening an identity to remove registrations left behind')(error);
      return;
    }
    this.leaving.add(cleaner.identity); // it takes no call (takesCalls), and held() counts it
    let answered = true;
    try {
      for (const [index, contact] of contacts.entries()) {
        if (this.shutdownCutoff.signal.aborted) break;
        answers[index] = await cleaner.identity.removeBinding(contact, { signal: this.shutdownCutoff.signal, waitMs }).catch(() => undefined);
        answered = answers[index] !== undefined;
        if (!answered) break;
      }
    } finally {
      // no answer: its REGISTER's transaction may still run, and the stack is stopped at once, not after Timer F
      await cleaner.identity.dispose(answered ? {} : { serverGone: true }).catch(this.options.failed('disposing the identity that removed registrations'));
      this.leaving.delete(cleaner.identity);
      if (cleaner.address) {
        await cleaner.address.release().catch(this.options.failed('giving back a one-time address'));
        this.event(cleaner.address, 'released');
      }
    }
  }

  /** Every identity this account holds now: fixed, receiving, sending, and those being replaced or discarded. */
  held(): SipIdentity[] {
    const temporary = [...this.sending, ...this.retired, ...(this.receiving ? [this.receiving] : [])].map((t) => t.identity);
    return [...new Set([...(this.fixed ? [this.fixed] : []), ...temporary, ...this.leaving])];
  }

  /**
   * Seed 003 failover: the server stopped answering and the account moved on. Nothing more is sent to it (a call's
   * address that goes now is not unregistered there: the journal keeps it), while calls still up on these identities go
   * on — their media does not pass the server. Resolves once they have all ended; then `dispose({ serverGone: true })`.
   */
  async serverFailed(): Promise<void> {
    this.serverGone = true;
    for (const identity of this.held()) identity.stopRefreshing();
    await this.callsOver();
  }

  /**
   * The account has left these identities (a failover, or a failback done): they take no new call, and this resolves
   * once the calls up on them have ended.
   */
  async callsOver(): Promise<void> {
    this.closing = true;
    for (;;) {
      if (this.placing.size > 0) {
        // a call being given one of these identities (placed during a failback attempt): its INVITE is made in the
        // caller's next turn, and it is a live call from then on
        await Promise.allSettled([...this.placing]);
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      const live = this.liveCalls();
      if (live.length === 0) return;
      await Promise.allSettled(live.map((call) => call.whenEnded()));
    }
  }

  /** The calls not ended yet on any identity this account holds. */
  liveCalls(): SipCall[] {
    return this.held().flatMap((identity) => [...identity.calls].filter((call) => call.state !== 'terminated'));
  }

  /**
   * Unregister and release everything this account holds. `serverGone`: the server failed (the account moved to
   * another), so nothing is sent to it; the journal keeps those bindings for the next start to remove, and dispose
   * resolves with them, so they can be erased should the account come back to that server (`eraseLeftBindings`).
   */
  dispose(options: { serverGone?: boolean } = {}): Promise<LeftBinding[]> {
    this.disposing ??= this.disposeOnce(options); // a second call (a shutdown during a failover's wait) joins the first
    return this.disposing;
  }

  private async disposeOnce(options: { serverGone?: boolean }): Promise<LeftBinding[]> {
    this.disposed = true;
    this.serverGone ||= options.serverGone === true; // a failed server stays failed (serverFailed)
    if (this.rotating) await this.rotating.catch(() => undefined); // its error went to incomingEnded's caller
    const prepared = this.preparedSending;
    this.preparedSending = undefined;
    if (prepared) await prepared.catch(() => undefined); // it is in `sending` once made, and retired below
    // An identity still opening for a call or a rotation gives itself up once open (openTemporary sees `disposed`).
    await Promise.allSettled([...this.arriving, ...(this.opening ? [this.opening] : [])]);
    const all = [...this.sending, ...this.retired, ...(this.receiving ? [this.receiving] : [])];
    this.receiving = undefined;
    this.sending.clear();
    this.retired.clear();
    // A call's address already on its way out (Fig. 28 steps 514-515) is waited for too: the phone removes every
    // address it still holds once this resolves, and one removed under a connection still closing would leave the
    // kernel retransmitting that connection's FIN from an address that is no longer there. The shutdown's grace starts
    // as these unregistrations do: a registration that took long to finish above still sends its Expires: 0.
    const cutoff = setTimeout(() => this.shutdownCutoff.abort(), this.options.shutdownGraceMs ?? 4000);
    try {
      // Retirements begun before (a call's address, a received call's old address) count as much as these.
      await Promise.allSettled([...all.map((t) => this.retire(t)), ...this.retiring]);
    } finally {
      clearTimeout(cutoff);
    }
    if (this.serverGone && this.fixed?.mayHoldBinding) this.leftBehind.push({ contact: this.fixed.contactUri });
    await this.fixed?.dispose({ serverGone: this.serverGone });
    return [...this.leftBehind];
  }

  /**
   * Seed 003 failback: the registrations earlier identities of this account left at this server when it failed over
   * from it are erased now that it answers again (RFC 3261 §10.2.2), so a restarted switch does not keep ringing dead
   * Contacts nor keep a one-time address on record (`removeLeftBindings`). Confirmed removals leave the journal.
   */
  async eraseLeftBindings(left: readonly LeftBinding[]): Promise<void> {
    const answers = await this.removeLeftBindings(left.map((binding) => binding.contact));
    for (const [index, binding] of left.entries()) {
      const status = answers[index];
      if (binding.bindingId !== undefined && status !== undefined && status < 300) this.options.journal?.release(binding.bindingId);
    }
  }

  private async rotate(current: TemporaryIdentity): Promise<void> {
    this.spent = current.identity;
    let next: TemporaryIdentity;
    try {
      next = await this.openTemporary('receiving');
    } catch (error) {
      // no new address: the old one stays the account's and takes calls (the error is reported) — unless the account
      // is going, when it takes none
      if (!this.disposed) this.spent = undefined;
      throw error;
    }
    this.speakers.add(next.identity);
    try {
      this.journalBinding(next);
      await next.identity.register();
    } catch (error) {
      this.speakers.delete(next.identity);
      if (!this.disposed) this.spent = undefined;
      await this.retire(next);
      throw asPhoneError(error);
    }
    this.spent = undefined;
    this.speakers.delete(current.identity);
    this.receiving = next;
    this.retired.add(current);
    // the old one goes in the background: the replacement is over once the new one is in place
    if (current.identity.calls.size === 0) void this.finishRetired(current).catch(this.options.failed('discarding a spent receiving address'));
  }

  private async finishRetired(old: TemporaryIdentity): Promise<void> {
    if (!this.retired.delete(old)) return; // a shutdown took it over
    await this.retire(old);
  }

  private fixedIdentity(): Promise<SipIdentity> {
    if (this.fixed && !this.fixed.isDisposed) return Promise.resolve(this.fixed);
    // an account shut down (or moved to another server) opens nothing more: nothing would dispose it
    if (this.disposed) return Promise.reject(shutDown());
    this.opening ??= (async () => {
      const address = await this.options.sourceAddress();
      this.fixed = await this.options.open({ purpose: 'fixed', bindAddress: address, advertisedAddress: address });
      return this.fixed;
    })().finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async openTemporary(purpose: 'sending' | 'receiving', server?: Endpoint): Promise<TemporaryIdentity> {
    if (this.disposed) throw shutDown();
    const opening = this.openUnlessShutDown(purpose, server);
    this.arriving.add(opening);
    try {
      return await opening;
    } finally {
      this.arriving.delete(opening);
    }
  }

  /**
   * Lease an address and open an identity on it. A shutdown that began meanwhile has already taken stock of what to
   * unregister: this one was not in it, so it is given up here, before any REGISTER (else its binding outlived the phone).
   */
  private async openUnlessShutDown(purpose: 'sending' | 'receiving', server?: Endpoint): Promise<TemporaryIdentity> {
    let address: LeasedAddress;
    try {
      address = await (await this.options.addresses!()).acquire(purpose);
    } catch (error) {
      throw new PhoneError('ADDRESS_FAILED', `no one-time ${purpose} address: ${(error as Error).message}`);
    }
    this.event(address, 'in-use');
    try {
      const bindAddress = address.binds ? address.address : await this.options.sourceAddress();
      const identity = await this.options.open({ purpose, bindAddress, advertisedAddress: address.address, ...(server ? { server } : {}) });
      if (this.disposed) {
        await identity.dispose().catch(this.options.failed('disposing a one-time identity'));
        throw shutDown();
      }
      return { identity, address };
    } catch (error) {
      await address.release().catch(this.options.failed('giving back a one-time address'));
      this.event(address, 'released');
      throw asPhoneError(error);
    }
  }

  /** An identity that opened as a shutdown began (which cannot have counted it) goes at once, unregistered. */
  private async stillWanted(temporary: TemporaryIdentity): Promise<TemporaryIdentity> {
    if (!this.disposed) return temporary;
    await this.retire(temporary);
    throw shutDown();
  }

  /**
   * Write the binding down before the REGISTER (SPEC B: a crash must leave nothing the next start cannot remove), and
   * with every REGISTER after it, sip.js's refreshes too, how long the registrar may hold it: after a crash the next
   * start erases every binding that may still be alive, however long ago it was made.
   */
  private journalBinding(temporary: TemporaryIdentity): void {
    const journal = this.options.journal;
    if (!journal || temporary.bindingId !== undefined) return;
    const bindingId = journal.own({ kind: 'binding', aor: this.options.aor, contact: temporary.identity.contactUri, server: this.options.server, transport: this.options.transport });
    temporary.bindingId = bindingId;
    temporary.identity.onBindingLifetime((until) => {
      try {
        journal.lastsUntil(bindingId, until);
      } catch (error) {
        this.options.failed('writing down how long a registration lasts')(error); // never thrown into sip.js's REGISTER
      }
    });
  }

  /** REGISTER Expires: 0, dispose the UserAgent, discard the address, strike the journal entries. */
  /**
   * Unregister, dispose and give back a one-time identity, once however many ask: a REGISTER that fails during a
   * shutdown retires its identity, and so does the shutdown, and one address must not be given back (nor its
   * registration erased) twice.
   */
  private retire(temporary: TemporaryIdentity): Promise<void> {
    const begun = this.retirements.get(temporary);
    if (begun) return begun;
    this.leaving.add(temporary.identity);
    const retiring: Promise<void> = this.giveUp(temporary).finally(() => {
      this.retiring.delete(retiring);
      this.leaving.delete(temporary.identity);
    });
    this.retirements.set(temporary, retiring);
    this.retiring.add(retiring);
    return retiring;
  }

  private async giveUp(temporary: TemporaryIdentity): Promise<void> {
    const mayBeBound = temporary.identity.mayHoldBinding;
    // An unregistration that fails leaves the binding in the journal: the next start removes it (SPEC B).
    const status = this.serverGone ? undefined : await temporary.identity.unregister({ signal: this.shutdownCutoff.signal }).catch(() => undefined);
    await temporary.identity.dispose({ serverGone: this.serverGone }).catch(this.options.failed('disposing a one-time identity'));
    // The binding is gone when the registrar confirmed it (or it was never made); else the journal keeps it for the
    // next start, and the user is told it may be left at the server (unremoved-bindings.ts).
    if (!mayBeBound || (status !== undefined && status < 300)) {
      if (temporary.bindingId !== undefined) this.options.journal?.release(temporary.bindingId);
    } else if (this.serverGone) {
      this.leftBehind.push({ contact: temporary.identity.contactUri, ...(temporary.bindingId !== undefined ? { bindingId: temporary.bindingId } : {}) });
    } else {
      const { identity, bindingId } = temporary;
      this.options.onUnregisterFailed?.({
        aor: this.options.aor,
        contact: identity.contactUri,
        server: this.options.server,
        transport: this.options.transport,
        status,
        ...(bindingId !== undefined ? { journalId: bindingId } : {}),
        ...(identity.bindingMayLastUntil !== undefined ? { until: identity.bindingMayLastUntil } : {}),
      });
    }
    await temporary.address.release().catch(this.options.failed('giving back a one-time address'));
    this.event(temporary.address, 'released');
  }

  private event(address: LeasedAddress, state: AddressEvent['state']): void {
    this.options.onAddress?.({ accountId: this.options.accountId, purpose: address.purpose, address: address.address, state, applier: address.applier, at: Date.now() });
  }
}

/** Every retiring identity listens to the one signal (a load on one-time addresses retires many at once). */
function cutoffController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

function shutDown(): PhoneError {
  return new PhoneError('INVALID_STATE', 'the account is shut down');
}

function asPhoneError(error: unknown): PhoneError {
  if (error instanceof PhoneError) return error;
  // A disposed identity is a shutdown (the phone's, or a move to another server), never a server that failed.
  if (error instanceof SipIdentityError && error.code === 'DISPOSED') return new PhoneError('INVALID_STATE', error.message);
  if (error instanceof SipIdentityError) return new PhoneError(error.code === 'REGISTER_FAILED' || error.code === 'TLS_FAILED' ? error.code : 'TRANSPORT_FAILED', error.message, error.status);
  return new PhoneError('INTERNAL', (error as Error).message);
}
