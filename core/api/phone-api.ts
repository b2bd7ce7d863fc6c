import type { CallLogDetail, CallLogExportFormat, CallLogFile, CallLogFilter, CallLogPage } from './call-log-types.js';
import type { CallRequest, CallSnapshot, PhoneEvent, PhoneSnapshot, RegistrationSnapshot } from './phone-types.js';

export type DtmfMethod = 'rfc4733' | 'info';

/**
 * What every host (Electron IPC, the `veilphone serve` WebSocket, the scenario runner) offers the UI: commands
 * that resolve when the phone has acted, and one stream of typed events. Failures reject with a PhoneError.
 */
export interface PhoneApi {
  snapshot(): Promise<PhoneSnapshot>;
  register(accountId?: string): Promise<RegistrationSnapshot>;
  unregister(accountId?: string): Promise<RegistrationSnapshot>;
  /** Start a call; resolves once the INVITE is on its way (state "calling"). */
  call(request: CallRequest): Promise<CallSnapshot>;
  answer(callId: string): Promise<void>;
  reject(callId: string, status?: number): Promise<void>;
  hangup(callId: string): Promise<void>;
  hold(callId: string, on: boolean): Promise<void>;
  mute(callId: string, on: boolean): Promise<void>;
  sendDtmf(callId: string, digits: string, method?: DtmfMethod): Promise<void>;
  history(filter?: CallLogFilter): Promise<CallLogPage>;
  callDetail(id: string): Promise<CallLogDetail | undefined>;
  /** Logged calls (by our call id) as a JSON or pcap file for the UI to save; UNKNOWN_CALL if one is not logged. */
  exportCalls(ids: string[], format: CallLogExportFormat): Promise<CallLogFile>;
  subscribe(listener: (event: PhoneEvent) => void): () => void;
}

/** The commands of PhoneApi, as names a wire protocol can carry. */
export const phoneCommands = [
  'snapshot',
  'register',
  'unregister',
  'call',
  'answer',
  'reject',
  'hangup',
  'hold',
  'mute',
  'sendDtmf',
  'history',
  'callDetail',
  'exportCalls',
] as const satisfies ReadonlyArray<Exclude<keyof PhoneApi, 'subscribe'>>;

export type PhoneCommand = (typeof phoneCommands)[number];
