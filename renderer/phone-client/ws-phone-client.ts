import type { PhoneAudioPort } from '../../core/api/audio-port.js';
import { decodeAudioFrame, encodeAudioFrame } from '../../core/api/audio-wire.js';
import type { CallLogDetail, CallLogExportFormat, CallLogFile, CallLogFilter, CallLogPage } from '../../core/api/call-log-types.js';
import type { Contact, ContactFile, ContactImportResult, ContactInput } from '../../core/api/contact-types.js';
import type { DtmfMethod, OtherCalls, PhoneApi, PhoneCommand } from '../../core/api/phone-api.js';
import { fromPhoneErrorShape, PhoneError } from '../../core/api/phone-error.js';
import type { AccountConfig, CallRequest, CallSnapshot, PhoneEvent, PhoneSettings, PhoneSnapshot, RegistrationSnapshot, TransferTarget } from '../../core/api/phone-types.js';
import type { PhoneWireMessage, PhoneWireRequest } from '../../core/api/phone-wire.js';

/** PhoneApi over the `veilphone serve` WebSocket (the same commands the Electron preload bridges). */
export class WsPhoneClient implements PhoneApi {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Set<(event: PhoneEvent) => void>();
  private readonly opened: Promise<void>;
  private wasOpen = false;
  /** The socket closed; `wasOpen` false when it never opened (refused: a stale token, or no service). */
  onClose: (wasOpen: boolean) => void = () => undefined;

  private readonly playbackListeners = new Set<(callId: string, samples: Int16Array) => void>();
  private captureSequence = 0;

  constructor(private readonly socket: WebSocket) {
    socket.binaryType = 'arraybuffer';
    this.opened = new Promise((resolve, reject) => {
      socket.addEventListener(
        'open',
        () => {
          this.wasOpen = true;
          resolve();
        },
        { once: true },
      );
      socket.addEventListener('error', () => reject(new PhoneError('TRANSPORT_FAILED', 'cannot reach the phone service')), { once: true });
    });
    socket.addEventListener('message', (event) => (event.data instanceof ArrayBuffer ? this.onAudio(event.data) : this.onMessage(String(event.data))));
    socket.addEventListener('close', () => {
      for (const { reject } of this.pending.values()) reject(new PhoneError('TRANSPORT_FAILED', 'the phone service went away'));
      this.pending.clear();
      this.onClose(this.wasOpen);
    });
  }

  /** The access token in the page's link (`?token=…`), or '' when the page was opened without it. */
  static tokenOf(location: Location): string {
    return new URLSearchParams(location.search).get('token') ?? '';
  }

  /** Connect to the service that served this page; the token comes from the page URL. */
  static fromLocation(location: Location): WsPhoneClient {
    const token = WsPhoneClient.tokenOf(location);
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    return new WsPhoneClient(new WebSocket(`${scheme}://${location.host}/api?token=${encodeURIComponent(token)}`));
  }

  snapshot(): Promise<PhoneSnapshot> {
    return this.request('snapshot', []) as Promise<PhoneSnapshot>;
  }
  register(accountId?: string): Promise<RegistrationSnapshot> {
    return this.request('register', [accountId]) as Promise<RegistrationSnapshot>;
  }
  unregister(accountId?: string): Promise<RegistrationSnapshot> {
    return this.request('unregister', [accountId]) as Promise<RegistrationSnapshot>;
  }
  settings(): Promise<PhoneSettings> {
    return this.request('settings', []) as Promise<PhoneSettings>;
  }
  updateAccount(config: AccountConfig): Promise<AccountConfig> {
    return this.request('updateAccount', [config]) as Promise<AccountConfig>;
  }
  async removeAccount(accountId: string): Promise<void> {
    await this.request('removeAccount', [accountId]);
  }
  call(request: CallRequest): Promise<CallSnapshot> {
    return this.request('call', [request]) as Promise<CallSnapshot>;
  }
  async answer(callId: string, others?: OtherCalls): Promise<void> {
    await this.request('answer', [callId, others]);
  }
  async reject(callId: string, status?: number): Promise<void> {
    await this.request('reject', [callId, status]);
  }
  async hangup(callId: string): Promise<void> {
    await this.request('hangup', [callId]);
  }
  async hold(callId: string, on: boolean): Promise<void> {
    await this.request('hold', [callId, on]);
  }
  async mute(callId: string, on: boolean): Promise<void> {
    await this.request('mute', [callId, on]);
  }
  async sendDtmf(callId: string, digits: string, method?: DtmfMethod): Promise<void> {
    await this.request('sendDtmf', [callId, digits, method]);
  }
  async transfer(callId: string, target: TransferTarget): Promise<void> {
    await this.request('transfer', [callId, target]);
  }
  history(filter?: CallLogFilter): Promise<CallLogPage> {
    return this.request('history', [filter]) as Promise<CallLogPage>;
  }
  callDetail(id: string): Promise<CallLogDetail | undefined> {
    return this.request('callDetail', [id]) as Promise<CallLogDetail | undefined>;
  }
  exportCalls(ids: string[], format: CallLogExportFormat): Promise<CallLogFile> {
    return this.request('exportCalls', [ids, format]) as Promise<CallLogFile>;
  }
  contacts(query?: string): Promise<Contact[]> {
    return this.request('contacts', [query]) as Promise<Contact[]>;
  }
  saveContact(contact: ContactInput): Promise<Contact> {
    return this.request('saveContact', [contact]) as Promise<Contact>;
  }
  async removeContact(id: string): Promise<void> {
    await this.request('removeContact', [id]);
  }
  importContacts(vcard: string): Promise<ContactImportResult> {
    return this.request('importContacts', [vcard]) as Promise<ContactImportResult>;
  }
  exportContacts(): Promise<ContactFile> {
    return this.request('exportContacts', []) as Promise<ContactFile>;
  }
  subscribe(listener: (event: PhoneEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The audio port over the same socket: microphone frames as binary messages, far-end frames once asked for. */
  readonly audio: PhoneAudioPort = {
    capture: (callId, samples) => {
      // a client that cannot keep up drops microphone frames rather than queueing seconds of delay
      if (this.socket.readyState !== WebSocket.OPEN || this.socket.bufferedAmount > 8 * 1024) return;
      this.socket.send(encodeAudioFrame({ kind: 'capture', sequence: this.captureSequence++, callId, samples }));
    },
    onPlayback: (listener) => {
      this.playbackListeners.add(listener);
      if (this.playbackListeners.size === 1) void this.opened.then(() => this.socket.send(JSON.stringify({ type: 'audio', on: true })), () => undefined);
      return () => {
        this.playbackListeners.delete(listener);
        if (this.playbackListeners.size === 0 && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify({ type: 'audio', on: false }));
      };
    },
  };

  private onAudio(data: ArrayBuffer): void {
    const decoded = decodeAudioFrame(data);
    if (!decoded.ok || decoded.frame.kind !== 'playback') return;
    for (const listener of this.playbackListeners) listener(decoded.frame.callId, decoded.frame.samples);
  }

  private async request(command: PhoneCommand, args: unknown[]): Promise<unknown> {
    await this.opened;
    const id = this.nextId++;
    const message: PhoneWireRequest = { type: 'request', id, command, args };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify(message));
    });
  }

  private onMessage(text: string): void {
    let message: PhoneWireMessage;
    try {
      message = JSON.parse(text) as PhoneWireMessage;
    } catch {
      return;
    }
    if (message.type === 'event') {
      for (const listener of this.listeners) listener(message.event);
    } else if (message.type === 'result') {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.ok) waiter.resolve(message.value);
      else waiter.reject(fromPhoneErrorShape(message.error));
    }
  }
}
