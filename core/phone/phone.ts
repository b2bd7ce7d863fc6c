import type { CallLogDetail, CallLogExportFormat, CallLogFile, CallLogFilter, CallLogPage } from '../api/call-log-types.js';
import type { Contact, ContactFile, ContactImportResult, ContactInput } from '../api/contact-types.js';
import type { DtmfMethod, OtherCalls, PhoneApi } from '../api/phone-api.js';
import { PhoneError } from '../api/phone-error.js';
import type {
  AccountConfig,
  CallRequest,
  HouseholdAccount,
  CallSnapshot,
  NetworkStatus,
  PhoneEvent,
  PhoneSettings,
  PhoneSnapshot,
  RegistrationSnapshot,
  TransferTarget,
} from '../api/phone-types.js';
import type { CommandRunner } from '../address/command-runner.js';
import type { CallRecorder } from '../calllog/call-recorder.js';
import { CallLogStore } from '../calllog/call-log-store.js';
import { ContactBookError } from '../calllog/contact-book.js';
import { ContactVcardError } from '../calllog/vcard-import-rules.js';
import type * as VcardCodec from '../calllog/contact-vcard.js';
import type { MediaSession } from '../media/media-session.js';
import type { SipCall } from '../sip/sip-call.js';
import type { SipTapEntry } from '../sip/transport/message-tap.js';
import { assertSipJsPatched } from '../sip/sipjs-patches.js';
import { osSockets, type SipSockets } from '../sip/transport/sip-sockets.js';
import { defaultSipTimers, type SipTimerValues } from '../sip/transport/udp-retransmitter.js';
import type { VerificationKeyFile } from '../signing/key-ring.js';
import type { SigningProxySource } from './signing-proxy-counters.js';
import { accountFailover } from './account-failover.js';
import { AccountSettings } from './account-settings.js';
import { CallAudioPort } from './call-audio-port.js';
import { CallControl } from './call-control.js';
import { CallHistory } from './call-history.js';
import { CallTransfers } from './call-transfer.js';
import { CrashRecovery } from './crash-recovery.js';
import { FailureTally } from './failure-tally.js';
import { ForwardByCall } from './forward-by-call.js';
import { IncomingAdmission } from './incoming-admission.js';
import { HouseholdAccounts } from './household-accounts.js';
import type { HouseholdTerminal, HouseholdTerminalOptions } from './household-phone.js';
import { LeasedIdentities } from './leased-identities.js';
import type { MediaFactoryProvider } from './media-factory.js';
import { OutgoingCalls } from './outgoing-call.js';
import { reportUnremovedBinding } from './unremoved-bindings.js';
import { RegistrationRetry, type RegistrationRetryOptions } from './registration-retry.js';
import { addressStatus, newAccountRuntime, PhoneAccounts, type AccountRuntime } from './phone-accounts.js';
import { PhoneEvents } from './phone-events.js';
import { LeaseKeeper, type PhoneLease } from './phone-lease.js';
import type { SecretSealer } from './secret-sealer.js';

export interface PhoneOptions {
  accounts: AccountConfig[];
  /** The call log; the phone closes it on shutdown only if it opened it from `callLogPath`. */
  callLog?: CallLogStore;
  callLogPath?: string;
  /**
   * Where calls are written instead of `callLog` (which then keeps only contacts and history): a load worker relays
   * its calls to the thread that holds the run's call log (core/calllog/call-recorder.ts).
   */
  callRecorder?: CallRecorder;
  mediaPortRange?: { min: number; max: number };
  createSessionDescriptionHandlerFactory: MediaFactoryProvider;
  /** Waits between tries to register again after a registration failed or was lost (registration-retry.ts); tests shorten them. */
  registrationRetry?: RegistrationRetryOptions;
  timers?: SipTimerValues;
  /** Every SIP message of every account, as it crossed the socket (scenario reports, diagnostics). */
  onTrace?: (accountId: string, entry: SipTapEntry) => void;
  /**
   * Where the ownership journal of one-time addresses and their registrations lives (SPEC B: a crash leaves nothing
   * the next start cannot remove). Without it, temporary-address accounts work but nothing survives a crash.
   */
  dataDir?: string;
  /** Runs `ip` and `rdisc6` for the address module (tests inject a fake). */
  commandRunner?: CommandRunner;
  /** A DHCP lease: every SIP, RTP and RTCP port comes from its range, and a call that cannot fit is refused. */
  lease?: PhoneLease;
  /**
   * Route every call's audio to `phone.audio` (microphone frames in, far-end frames out, by call id) for a host whose UI
   * has an audio bridge. Without it calls play what a scenario tells them (silence by default).
   */
  audioPort?: boolean;
  /** What the status bar says about the network: the embedded lab or an external server. */
  network?: NetworkStatus;
  /**
   * The settings file (`settingsPath(dataDir)`): accounts saved from the settings view are loaded from it at start and
   * every change is written back. An account of `accounts` (the host's command line) wins over a stored one of its id.
   */
  settingsFile?: string;
  /**
   * Calls at once, incoming and outgoing (default 128): beyond it an INVITE gets 486 Busy Here and is only counted
   * (a flood of INVITEs must not fill the call log, the notifications and the memory), and call() is refused.
   */
  maxCalls?: number;
  /** Seals the passwords of the settings file with the OS keychain (Electron's safeStorage); absent, they stay in it. */
  secretSealer?: SecretSealer;
  /**
   * Keys that verify the network's signed routing headers (seed 002), read each time a call's trace is shown: the
   * lab's, or a key file. Without them signatures are decoded but get no verdict.
   */
  signatureKeys?: () => readonly VerificationKeyFile[] | undefined;
  /** The signing proxy whose failure counters the diagnostics pane shows (its admin view, or a lab in this process). */
  signingProxy?: SigningProxySource;
  /**
   * Where every SIP socket comes from: the operating system's by default; a unit test links phones and the lab through
   * an in-memory network instead (test/support/memory-network.ts).
   */
  sockets?: SipSockets;
  /**
   * Household terminals (seed 001) the host allocated before it made the phone (`veilphone serve --household`): the
   * status bar shows them and the phone gives them back when it stops. Accounts saved with `household` in the settings
   * are allocated by the phone itself (household-accounts.ts).
   */
  householdTerminals?: Array<{ accountId: string; wanted: HouseholdAccount; terminal: HouseholdTerminal }>;
  /** The allocation request of household accounts (tests give the lab's timing). */
  allocateHousehold?: (options: HouseholdTerminalOptions) => Promise<HouseholdTerminal>;
}

/**
 * The phone service every host runs, behind PhoneApi. It only composes: accounts (phone-accounts.ts) and their
 * settings (account-settings.ts), the lease (phone-lease.ts), crash recovery (crash-recovery.ts), identities on leased
 * ports (leased-identities.ts), server failover (account-failover.ts), incoming admission (incoming-admission.ts),
 * outgoing calls (outgoing-call.ts), call control (call-control.ts) and the call history (call-history.ts).
 */
export class Phone implements PhoneApi {
  /** The audio bridge's port, when the host asked for one. */
  readonly audio?: CallAudioPort;
  /** Why stored accounts could not be loaded (reported once a host subscribes, and by `settingsProblems`). */
  readonly settingsProblems: string[];
  private readonly events = new PhoneEvents();
  /** Best-effort steps that failed, by step (each kind reported once as BEST_EFFORT_FAILED). */
  readonly failures = new FailureTally(this.events.emit);
  private readonly accounts = new PhoneAccounts(this.failures.of);
  private readonly callLog: CallLogStore;
  private readonly ownsCallLog: boolean;
  private readonly calls: CallControl;
  private readonly lease: LeaseKeeper;
  private readonly recovery: CrashRecovery;
  private readonly identities: LeasedIdentities;
  private readonly admission: IncomingAdmission;
  private readonly outgoing: OutgoingCalls;
  private readonly transfers: CallTransfers;
  private readonly forwarding: ForwardByCall;
  private readonly log: CallHistory;
  private readonly accountSettings: AccountSettings;
  private readonly sockets: SipSockets;
  private readonly household: HouseholdAccounts;
  private stopped = false;

  constructor(private readonly options: PhoneOptions) {
    assertSipJsPatched(); // refuse to start on a sip.js the install did not patch (tools/postinstall/README.md)
    this.sockets = options.sockets ?? osSockets;
    const emit = this.events.emit;
    const failed = this.failures.of;
    const stopped = (): boolean => this.stopped;
    const lease = (): PhoneLease | undefined => this.lease.current;
    this.ownsCallLog = options.callLog === undefined;
    this.callLog = options.callLog ?? CallLogStore.open(options.callLogPath ?? ':memory:');
    if (options.audioPort) this.audio = new CallAudioPort();
    this.household = new HouseholdAccounts(options.allocateHousehold ? { allocate: options.allocateHousehold } : {});
    for (const { accountId, wanted, terminal } of options.householdTerminals ?? []) this.household.adopt(accountId, wanted, terminal);
    const maxCalls = options.maxCalls ?? 128;
    this.calls = new CallControl({
      callLog: options.callRecorder ?? this.callLog,
      emit,
      ...(this.audio ? { audio: this.audio } : {}),
      lease,
      ...(options.mediaPortRange ? { mediaPortRange: options.mediaPortRange } : {}),
      onCallEnded: () => this.lease.moveToNewLeaseWhenIdle(),
      onRefer: (call, referral) => this.transfers.onRefer(call, referral),
    });
    this.accountSettings = new AccountSettings({
      ...(options.settingsFile !== undefined ? { settingsFile: options.settingsFile } : {}),
      ...(options.secretSealer ? { secretSealer: options.secretSealer } : {}),
      accounts: this.accounts,
      calls: this.calls,
      addAccount: (config) => this.addAccount(config),
      registerAgain: (id) => this.registerInBackground(id),
      account: (id) => this.account(id),
      stopped,
      emit,
      household: this.household,
    });
    this.settingsProblems = this.accountSettings.problems;
    this.lease = new LeaseKeeper({
      lease: options.lease,
      emit,
      failed,
      stopped,
      busy: () => this.calls.size > 0,
      serialized: (action) => this.accountSettings.serialized(action),
      reopenAccounts: () => this.accounts.reopenAll((config) => this.addAccount(config)),
      registerAgain: (id) => this.registerInBackground(id),
      relinquish: () => this.relinquishLease(),
    });
    this.recovery = new CrashRecovery({
      ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
      ...(options.commandRunner ? { commandRunner: options.commandRunner } : {}),
      accounts: () => this.accounts.all(),
      media: options.createSessionDescriptionHandlerFactory,
      ...(options.mediaPortRange ? { mediaPortRange: options.mediaPortRange } : {}),
      ...(options.timers ? { timers: options.timers } : {}),
      sockets: this.sockets,
      emit,
      failed,
    });
    this.admission = new IncomingAdmission({
      calls: this.calls,
      maxCalls,
      media: options.createSessionDescriptionHandlerFactory,
      lease,
      emit,
      failed,
      forwardByCall: (account, call, uri, rung) => this.forwarding.start(account, call, uri, rung),
    });
    this.identities = new LeasedIdentities({
      media: options.createSessionDescriptionHandlerFactory,
      sockets: this.sockets,
      ...(options.mediaPortRange ? { mediaPortRange: options.mediaPortRange } : {}),
      ...(options.timers ? { timers: options.timers } : {}),
      ...(options.onTrace ? { onTrace: options.onTrace } : {}),
      ...(options.commandRunner ? { commandRunner: options.commandRunner } : {}),
      lease,
      journal: () => this.recovery.ownershipJournal(),
      emit,
      failed,
      onIncoming: (account, sip, identity) => this.admission.onIncoming(account, sip, identity),
      onUnregisterFailed: (binding) => reportUnremovedBinding(emit, binding),
      isCurrent: (account) => this.accounts.find(account.config.id) === account,
    });
    this.outgoing = new OutgoingCalls({
      calls: this.calls,
      maxCalls,
      account: (id) => this.account(id),
      leaseMoving: () => this.lease.moving,
      recovered: () => this.recovery.recovered(),
      lease,
      emit,
      contactFor: (number) => this.callLog.contacts.findByNumber(number),
    });
    this.transfers = new CallTransfers({ calls: this.calls, outgoing: this.outgoing, account: (id) => this.account(id), failed });
    this.forwarding = new ForwardByCall({ calls: this.calls, outgoing: this.outgoing, transfer: (id, target) => this.transfers.transfer(id, target), emit, subscribe: (listener) => this.events.subscribe(listener), failed, ...(this.audio ? { audio: this.audio } : {}), replacedGraceMs: 8 * (options.timers?.t1 ?? defaultSipTimers.t1) });
    this.log = new CallHistory(this.callLog, options.signatureKeys, options.signingProxy);
    for (const config of options.accounts) this.addAccount(config);
    this.accountSettings.loadStored();
    this.recovery.begin();
  }

  addAccount(config: AccountConfig): void {
    if (this.accounts.has(config.id)) throw new PhoneError('INVALID_ARGUMENT', `account ${config.id} already exists`);
    const { account: runtime, servers } = newAccountRuntime(config);
    const account = runtime as AccountRuntime;
    account.identities = this.identities.identitiesFor(account);
    const failover = accountFailover(account, {
      servers,
      identitiesFor: (a) => this.identities.identitiesFor(a),
      media: this.options.createSessionDescriptionHandlerFactory,
      sockets: this.sockets,
      ...(this.options.mediaPortRange ? { mediaPortRange: this.options.mediaPortRange } : {}),
      ...(this.options.timers ? { timers: this.options.timers } : {}),
      stopped: () => this.stopped,
      emit: this.events.emit,
      failed: this.failures.of,
    });
    if (failover) account.failover = failover;
    // An account at one fixed address registers again by itself after a failure (one with a backup server fails over
    // instead). Not a one-time-address account: each try would lease and expose a new address, and its retired
    // identities' own endings would read as losses. A try that ends after the user unregistered is undone.
    else if (config.address?.mode !== 'temporary') {
      // (not on a lost lease: its address is gone; the account registers again from the next one, phone-lease.ts)
      const wanted = (): boolean => account.wantRegistered && !this.stopped && !this.lease.lost;
      account.retry = new RegistrationRetry(
        async () => {
          await account.identities.register();
          if (!wanted()) await account.identities.unregister();
        },
        wanted,
        this.options.registrationRetry,
      );
    }
    this.accounts.add(account);
  }

  subscribe(listener: (event: PhoneEvent) => void): () => void {
    return this.events.subscribe(listener);
  }

  async snapshot(): Promise<PhoneSnapshot> {
    const accounts = this.accounts.all();
    const lease = this.lease.status;
    const household = this.household.status().filter((h) => this.accounts.has(h.accountId));
    return {
      accounts: accounts.map((a) => ({ ...a.config, ...(a.config.password ? { password: '********' } : {}) })),
      registrations: accounts.map((a) => ({ ...a.registration })),
      addresses: await Promise.all(accounts.map((a) => addressStatus(a))),
      ...(lease ? { lease } : {}),
      calls: this.calls.all().map((c) => c.snapshot()),
      ...(this.options.network ? { network: this.options.network } : {}),
      ...(household.length > 0 ? { household } : {}),
    };
  }

  async settings(): Promise<PhoneSettings> {
    return this.accountSettings.settings();
  }

  updateAccount(input: AccountConfig): Promise<AccountConfig> {
    return this.accountSettings.update(input);
  }

  removeAccount(accountId: string): Promise<void> {
    return this.accountSettings.remove(accountId);
  }

  async register(accountId?: string): Promise<RegistrationSnapshot> {
    const account = this.account(accountId);
    await this.recovery.recovered();
    account.wantRegistered = true;
    if (account.failover) {
      try {
        await account.failover.register();
      } finally {
        // keep-alives run even when no server took the REGISTER (all down at start): the first to answer one is
        // registered with (server-failover.ts round) — unless the account went meanwhile (unregistered, replaced by a
        // settings change, the phone shut down): nothing would stop them
        if (account.wantRegistered && !this.stopped && this.accounts.find(account.config.id) === account) account.failover.start();
      }
    } else {
      await account.identities.register();
    }
    return { ...account.registration };
  }

  async unregister(accountId?: string): Promise<RegistrationSnapshot> {
    const account = this.account(accountId);
    account.wantRegistered = false;
    account.retry?.changed('unregistered'); // a try due is called off
    await account.failover?.pause(); // a failback under way finishes first: its registration is then undone below
    await account.identities.unregister();
    // no identity to say so (its server was down when it was made): the account is not registered, and no try is due
    if (account.registration.state !== 'unregistered' || account.registration.retryAt !== undefined) {
      account.registration = { accountId: account.config.id, state: 'unregistered', ...(account.registration.server !== undefined ? { server: account.registration.server } : {}) };
      this.events.emit({ type: 'registration', registration: { ...account.registration } });
    }
    return { ...account.registration };
  }

  call(request: CallRequest): Promise<CallSnapshot> {
    return this.outgoing.call(request);
  }

  answer(callId: string, others?: OtherCalls): Promise<void> {
    return this.calls.answer(callId, others);
  }

  reject(callId: string, status?: number): Promise<void> {
    return this.calls.reject(callId, status);
  }

  hangup(callId: string): Promise<void> {
    return this.calls.hangup(callId);
  }

  hold(callId: string, on: boolean): Promise<void> {
    return this.calls.hold(callId, on);
  }

  mute(callId: string, on: boolean): Promise<void> {
    return this.calls.mute(callId, on);
  }

  sendDtmf(callId: string, digits: string, method?: DtmfMethod): Promise<void> {
    return this.calls.sendDtmf(callId, digits, method);
  }

  transfer(callId: string, target: TransferTarget): Promise<void> {
    return this.transfers.transfer(callId, target);
  }

  history(filter?: CallLogFilter): Promise<CallLogPage> {
    return this.log.history(filter);
  }

  /** A call with its trace; each message with its signatures decoded and checked now (the stored trace stays raw). */
  callDetail(id: string): Promise<CallLogDetail | undefined> {
    return this.log.callDetail(id);
  }

  exportCalls(ids: string[], format: CallLogExportFormat): Promise<CallLogFile> {
    return this.log.exportCalls(ids, format);
  }

  async contacts(query?: string): Promise<Contact[]> {
    return this.callLog.contacts.search(query);
  }

  async saveContact(contact: ContactInput): Promise<Contact> {
    try {
      return this.callLog.contacts.save(contact);
    } catch (error) {
      throw contactError(error);
    }
  }

  async removeContact(id: string): Promise<void> {
    try {
      this.callLog.contacts.remove(id);
    } catch (error) {
      throw contactError(error);
    }
  }

  async importContacts(vcard: string): Promise<ContactImportResult> {
    try {
      return this.callLog.contacts.importAll((await vcardCodec()).vcardToContacts(vcard));
    } catch (error) {
      // a card the book refuses (no name, no number left) makes the file bad as a whole
      throw error instanceof ContactBookError ? new PhoneError('INVALID_VCARD', error.message) : contactError(error);
    }
  }

  async exportContacts(): Promise<ContactFile> {
    try {
      const contacts = this.callLog.contacts.all();
      return { fileName: 'veilphone-contacts.vcf', mimeType: 'text/vcard', data: (await vcardCodec()).contactsToVcard(contacts), contacts: contacts.length };
    } catch (error) {
      throw new PhoneError('EXPORT_FAILED', (error as Error).message);
    }
  }

  /** The live SIP call behind a call id (scenario runner and media wiring). */
  sipCall(callId: string): SipCall {
    return this.calls.sipCall(callId);
  }

  /** The plain-RTP media session of a live call, once negotiated (scenario steps play, record, and media checks). */
  mediaOf(callId: string): MediaSession | undefined {
    return this.calls.mediaOf(callId);
  }

  /**
   * Waits, at most `graceMs`, until every BYE this phone sent has its answer. A host ending a run of several phones
   * calls this on all of them before shutting any down: the BYE of a call that just ended at one phone is then
   * received at the other before that one's shutdown hangs up what is left, so the two BYEs do not cross (each would
   * get 481, RFC 3261 §15.1.2).
   */
  async byesAnswered(graceMs: number): Promise<void> {
    const answered = this.accounts.all().flatMap((account) => account.identities.held().map((identity) => identity.whenByesAnswered()));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(answered), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
  }

  /** Hang up every call, unregister every account, release every socket. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.lease.stop();
    this.recovery.stop();
    // A callee's BYE waits for the ACK of its 200 (RFC 3261 §15), up to 64·T1: shutdown gives it a short grace only.
    for (const account of this.accounts.all()) account.failover?.stop();
    await this.calls.hangUpAll(8 * (this.options.timers?.t1 ?? defaultSipTimers.t1));
    await Promise.allSettled(this.accounts.all().map((a) => a.identities.dispose()));
    // a failback under way, and identities being given up at the server left, before any address goes
    await Promise.allSettled(this.accounts.all().map((a) => a.failover?.close()));
    await Promise.allSettled(this.accounts.all().map(async (a) => (a.addresses ? (await a.addresses).close() : undefined)));
    await this.recovery.close();
    if (this.ownsCallLog) this.callLog.close();
    else this.callLog.flush();
    await this.lease.release();
    await this.household.releaseAll(); // seed 001 Fig. 8 step 84: every household allocation goes back
  }

  /**
   * RFC 2131 §4.4.5: the lease's address is about to go (it expires, or the server refused it) and the DHCP server may
   * give it to another host. Its calls end with BYE, and every account's bindings are removed (REGISTER Expires: 0)
   * while they can still be sent from it: a registrar kept sending this phone's calls there. The accounts stay wanted
   * (their retries wait for a lease: they register again from the next one); their ids are returned.
   */
  private async relinquishLease(): Promise<string[]> {
    const wanted = this.accounts.all().filter((a) => a.wantRegistered);
    for (const account of wanted) account.failover?.stop();
    // the BYEs go at once; their answers are waited for briefly, as the lease client gives this a few seconds only
    await this.calls.hangUpAll(Math.min(1000, 8 * (this.options.timers?.t1 ?? defaultSipTimers.t1)));
    await Promise.allSettled(
      this.accounts.all().map(async (account) => {
        await account.failover?.pause();
        await account.identities.unregister();
      }),
    );
    return wanted.map((a) => a.config.id);
  }

  /** REGISTER in the background; a failure becomes an error event, unless the phone's own shutdown abandoned it. */
  private registerInBackground(accountId: string): void {
    void this.register(accountId).catch((error: Error) => {
      if (this.stopped) return;
      this.events.emit({ type: 'error', code: error instanceof PhoneError ? error.code : 'REGISTER_FAILED', message: error.message });
    });
  }

  private account(accountId: string | undefined): AccountRuntime {
    if (this.stopped) throw new PhoneError('INVALID_STATE', 'the phone has been shut down');
    return this.accounts.get(accountId);
  }
}

/** The vCard codec and ical.js under it, loaded the first time contacts are imported or exported (not by every run). */
const vcardCodec = (): Promise<typeof VcardCodec> => import('../calllog/contact-vcard.js');

/** The address book's typed errors as PhoneErrors (an unknown id, a contact without a name or a number). */
function contactError(error: unknown): PhoneError {
  if (error instanceof ContactBookError) return new PhoneError(error.code === 'UNKNOWN_CONTACT' ? 'UNKNOWN_CONTACT' : 'INVALID_ARGUMENT', error.message);
  // a bad file, or a card the book refuses (no name, no number): the import is refused whole
  if (error instanceof ContactVcardError) return new PhoneError('INVALID_VCARD', error.message);
  return new PhoneError('STORAGE_FAILED', (error as Error).message);
}
