import type { Contact, ContactFile, ContactImportResult, ContactInput } from './contact-types.js';
import type { CallLogDetail, CallLogExportFormat, CallLogFile, CallLogFilter, CallLogPage } from './call-log-types.js';
import type { PhoneAudioPort } from './audio-port.js';
import type { AccountConfig, CallRequest, CallSnapshot, PhoneEvent, PhoneSettings, PhoneSnapshot, RegistrationSnapshot, TransferTarget } from './phone-types.js';

export type DtmfMethod = 'rfc4733' | 'info';

/** What answering a waiting call does to the call that is talking: hold it (the default) or end it. */
export type OtherCalls = 'hold' | 'hangup';

/**
 * What every host (Electron IPC, the `veilphone serve` WebSocket, the scenario runner) offers the UI: commands
 * that resolve when the phone has acted, and one stream of typed events. Failures reject with a PhoneError.
 */
export interface PhoneApi {
  snapshot(): Promise<PhoneSnapshot>;
  register(accountId?: string): Promise<RegistrationSnapshot>;
  unregister(accountId?: string): Promise<RegistrationSnapshot>;
  /** The stored accounts (passwords masked) for the settings view. */
  settings(): Promise<PhoneSettings>;
  /**
   * Add or replace an account (by id): checked, stored, and applied by re-creating the account (its registration
   * renewed). A `password` of `maskedPassword` or absent keeps the stored one, `''` removes it. INVALID_STATE while
   * the account has calls.
   */
  updateAccount(config: AccountConfig): Promise<AccountConfig>;
  /** Unregister and forget an account. */
  removeAccount(accountId: string): Promise<void>;
  /** Start a call; resolves once the INVITE is on its way (state "calling"). */
  call(request: CallRequest): Promise<CallSnapshot>;
  /** Answer a ringing call; a call that is talking is held first (or ended, `hangup`). */
  answer(callId: string, others?: OtherCalls): Promise<void>;
  reject(callId: string, status?: number): Promise<void>;
  hangup(callId: string): Promise<void>;
  /** Hold, or resume: resuming one call holds the one that was talking (a swap). */
  hold(callId: string, on: boolean): Promise<void>;
  mute(callId: string, on: boolean): Promise<void>;
  sendDtmf(callId: string, digits: string, method?: DtmfMethod): Promise<void>;
  /**
   * Transfer an established call (REFER, RFC 3515): blind to `{ to }`, or attended to the peer of another established
   * call `{ replaces }` (Refer-To with Replaces, RFC 3891). Resolves once the peer accepted the REFER; the call's
   * `transfer` follows the NOTIFYs, and the call is hung up when the transfer succeeded. TRANSFER_FAILED if refused.
   */
  transfer(callId: string, target: TransferTarget): Promise<void>;
  history(filter?: CallLogFilter): Promise<CallLogPage>;
  callDetail(id: string): Promise<CallLogDetail | undefined>;
  /** Logged calls (by our call id) as a JSON or pcap file for the UI to save; UNKNOWN_CALL if one is not logged. */
  exportCalls(ids: string[], format: CallLogExportFormat): Promise<CallLogFile>;
  /** The address book: contacts whose name or number contains `query` (all when empty), favourites first. */
  contacts(query?: string): Promise<Contact[]>;
  /** Add (no id) or change a contact; INVALID_ARGUMENT without a name or a number, UNKNOWN_CONTACT for an unknown id. */
  saveContact(contact: ContactInput): Promise<Contact>;
  removeContact(id: string): Promise<void>;
  /**
   * Import a vCard 3.0/4.0 file's text (RFC 2426, RFC 6350), all or nothing: a card matches a contact by its UID, else
   * by name and the same numbers (so a re-import duplicates nobody). INVALID_VCARD names the first bad card.
   */
  importContacts(vcard: string): Promise<ContactImportResult>;
  /** Every contact as one vCard 4.0 file for the UI to save. */
  exportContacts(): Promise<ContactFile>;
  subscribe(listener: (event: PhoneEvent) => void): () => void;
  /** The audio bridge (microphone in, far end out, per call), when the host routes call audio to the UI. */
  audio?: PhoneAudioPort;
}

/** The commands of PhoneApi, as names a wire protocol can carry. */
export const phoneCommands = [
  'snapshot',
  'register',
  'unregister',
  'settings',
  'updateAccount',
  'removeAccount',
  'call',
  'answer',
  'reject',
  'hangup',
  'hold',
  'mute',
  'sendDtmf',
  'transfer',
  'history',
  'callDetail',
  'exportCalls',
  'contacts',
  'saveContact',
  'removeContact',
  'importContacts',
  'exportContacts',
] as const satisfies ReadonlyArray<Exclude<keyof PhoneApi, 'subscribe' | 'audio'>>;

export type PhoneCommand = (typeof phoneCommands)[number];
