import type { Referral } from 'sip.js';
import { mediaEncryptionText, signalingTlsText } from '../api/call-encryption.js';
import type { DtmfMethod, OtherCalls } from '../api/phone-api.js';
import { PhoneError } from '../api/phone-error.js';
import type { CallRecorder } from '../calllog/call-recorder.js';
import type { MediaSession } from '../media/media-session.js';
import { SipCallError, type SipCall } from '../sip/sip-call.js';
import { formatEndpoint } from '../sip/transport/endpoint.js';
import type { SipTapEntry } from '../sip/transport/message-tap.js';
import type { CallAudioPort } from './call-audio-port.js';
import { callResult } from './call-result.js';
import { defaultMediaPorts } from './media-factory.js';
import { MediaTimeout, mediaTimeoutOf } from './media-timeout.js';
import type { AccountRuntime } from './phone-accounts.js';
import type { PhoneCall } from './phone-call.js';
import type { EmitPhoneEvent } from './phone-events.js';
import { leaseText, type PhoneLease } from './phone-lease.js';
import { WireSetupTime } from './wire-setup-time.js';

export interface CallControlOptions {
  /** Where each call, its changes and its messages are written: the call log, or a load worker's relay to it. */
  callLog: CallRecorder;
  emit: EmitPhoneEvent;
  /** The audio bridge's port, when the host asked for one: every call's media is attached to it. */
  audio?: CallAudioPort;
  /** The lease the phone runs on now (the call log notes it and its ports). */
  lease: () => PhoneLease | undefined;
  mediaPortRange?: { min: number; max: number };
  /** A call ended (the last call on a lost lease lets the phone move onto a new one). */
  onCallEnded: () => void;
  /** A REFER arrived in a call (RFC 3515): the transfer it asks for (call-transfer.ts). */
  onRefer: (call: PhoneCall, referral: Referral) => void;
}

/**
 * The calls going on, incoming and outgoing: each logged with its trace from its first message, its state sent to
 * the hosts on every change, and the user's controls on it (answer, reject, hang up, hold, mute, DTMF).
 */
export class CallControl {
  private readonly calls = new Map<string, PhoneCall>();
  /** Ends answered calls whose far end went quiet (the account's `mediaTimeout`). */
  private readonly mediaTimeout = new MediaTimeout();

  constructor(private readonly options: CallControlOptions) {}

  get size(): number {
    return this.calls.size;
  }

  all(): PhoneCall[] {
    return [...this.calls.values()];
  }

  hasCallsOf(accountId: string): boolean {
    return this.all().some((c) => c.accountId === accountId);
  }

  track(account: AccountRuntime, call: PhoneCall): void {
    this.calls.set(call.id, call);
    const snapshot = call.snapshot();
    const lease = this.options.lease();
    this.options.callLog.startCall({
      id: call.id,
      accountId: call.accountId,
      direction: snapshot.direction,
      sipCallId: snapshot.sipCallId,
      remoteShown: snapshot.remote.shown,
      remoteUri: snapshot.remote.uri,
      remoteAnonymous: snapshot.remote.anonymous,
      startedAt: snapshot.startedAt,
      localSip: call.localSip,
      // An incoming call's SIP peer is where its INVITE came from: the server, or a peer that called the Contact.
      remoteSip: formatEndpoint(call.sip.source ?? account.server),
      transport: account.config.transport,
      ...(signalingTlsText(call.signaling) !== undefined ? { signalingTls: signalingTlsText(call.signaling)! } : {}),
      ports: lease?.pool.range ?? this.options.mediaPortRange ?? defaultMediaPorts,
      ...(lease ? { lease: leaseText(lease) } : {}),
      ...(call.localAddress !== undefined ? { localAddress: call.localAddress } : {}),
      ...(snapshot.remote.user !== undefined ? { remoteUser: snapshot.remote.user } : {}),
      ...(call.dialed !== undefined ? { dialed: call.dialed } : {}),
      ...(call.anonymity !== undefined ? { anonymity: call.anonymity } : {}),
      ...(call.sent ? { sentFrom: call.sent.from, sentTo: call.sent.to, sentRequestUri: call.sent.requestUri } : {}),
    }, this.storageFailed);
    const logSink = callLogSink(this.options.callLog, call.id);
    const wireSetup = call.sip.direction === 'outgoing' ? (call.wireSetup = new WireSetupTime()) : undefined;
    const traceSink = wireSetup
      ? (entry: SipTapEntry): void => {
          wireSetup.see(entry);
          logSink(entry);
        }
      : logSink;
    account.router.claim(snapshot.sipCallId, traceSink);
    // the call's media: a 3xx followed after ringing brings a new INVITE with new media (RFC 3261 §8.1.3.4), which the
    // audio port and the listeners follow (the first target's is closed)
    let attached: MediaSession | undefined;
    let answered = false;
    call.sip.onChange(() => {
      if (call.sip.state === 'established' && !answered) {
        answered = true;
        this.holdIfSetAside(call);
      }
      const media = call.media;
      if (media && media !== attached) {
        if (attached) this.options.audio?.detach(call.id);
        attached = media;
        media.muted = call.muted;
        this.options.audio?.attach(call.id, media);
        media.onDigit((digit) => this.options.emit({ type: 'dtmf', callId: call.id, digit: digit.digit, durationMs: digit.durationMs }));
        media.onNegotiated((stats) => {
          // RFC 3264 §8.4: a peer that offers sendonly or inactive is holding the call.
          call.remoteHold = stats.remoteDirection === 'sendonly' || stats.remoteDirection === 'inactive';
          this.emitCall(call);
        });
      }
      if (call.sip.state === 'terminated' && media) call.finalMedia = media.stats();
      this.emitCall(call);
    });
    this.mediaTimeout.watch(call.id, () => call.media, mediaTimeoutOf(account.config), () => call.sip.state === 'established', (seconds) => call.sip.endByNetwork({ kind: 'no-media', seconds }));
    call.sip.onRefer((referral) => this.options.onRefer(call, referral));
    call.sip.onInfoDigit((digit) => this.options.emit({ type: 'dtmf', callId: call.id, digit: digit.digit, durationMs: digit.durationMs }));
    void call.sip.whenEnded().then(() => {
      this.holdWhenAnswered.delete(call.id);
      this.mediaTimeout.forget(call.id);
      this.options.audio?.detach(call.id);
      account.router.release(snapshot.sipCallId, traceSink);
      this.calls.delete(call.id);
      this.options.onCallEnded(); // the last call on a lost lease has ended
    });
    this.emitCall(call);
  }

  /** A live call by our id (UNKNOWN_CALL when there is none). */
  get(callId: string): PhoneCall {
    return this.callById(callId);
  }

  /** Something about a call changed outside its SIP state (a transfer's progress): log it and tell the hosts. */
  changed(call: PhoneCall): void {
    if (this.calls.has(call.id)) this.emitCall(call);
  }

  /** Calls of ours the user set aside while they rang: each goes on hold when answered (holdIfSetAside). */
  private readonly holdWhenAnswered = new Set<string>();
  /** A call-log write made after the event went out (call-log-store.ts writes once per event-loop turn) failed. */
  private readonly storageFailed = (error: Error): void => this.options.emit({ type: 'error', code: 'STORAGE_FAILED', message: error.message });

  private emitCall(call: PhoneCall): void {
    const snapshot = call.snapshot();
    // The event goes out now; the call log writes the change with the others of this event-loop turn, in one transaction.
    this.options.callLog.updateCall(
      call.id,
      {
        result: callResult(snapshot),
        ...(snapshot.status !== undefined ? { status: snapshot.status } : {}),
        ...(snapshot.reason !== undefined ? { reason: snapshot.reason } : {}),
        ...(snapshot.answeredAt !== undefined ? { answeredAt: snapshot.answeredAt } : {}),
        ...(snapshot.endedAt !== undefined ? { endedAt: snapshot.endedAt } : {}),
        ...(snapshot.endedBy !== undefined ? { endedBy: snapshot.endedBy } : {}),
        ...(snapshot.media ? { localRtp: snapshot.media.localRtp } : {}),
        ...(snapshot.media?.remoteRtp !== undefined ? { remoteRtp: snapshot.media.remoteRtp } : {}),
        ...(snapshot.media?.codec !== undefined ? { codec: snapshot.media.codec } : {}),
        ...(snapshot.redirects ? { redirects: snapshot.redirects } : {}),
        ...(snapshot.forwardedTo !== undefined ? { forwardedTo: snapshot.forwardedTo } : {}),
        ...(snapshot.endCause !== undefined ? { endCause: snapshot.endCause } : {}),
        ...(snapshot.media ? { mediaEncryption: mediaEncryptionText(snapshot.media)! } : {}),
      },
      this.storageFailed,
    );
    this.options.emit({ type: 'call', call: snapshot });
  }

  /**
   * Answer a ringing call. Calls already talking are put on hold first (RFC 3264 §8.4 re-INVITE), or ended when
   * `others` is `hangup`: one call carries the audio at a time, and no answered call is left without controls.
   */
  async answer(callId: string, others: OtherCalls = 'hold'): Promise<void> {
    const call = this.callById(callId);
    if (call.sip.state !== 'incoming') throw new PhoneError('INVALID_STATE', `cannot answer a call in state ${call.sip.state}`);
    await this.setAsideOthers(call, others);
    await this.guard(() => call.sip.answer());
  }

  async reject(callId: string, status = 486): Promise<void> {
    await this.guard(() => this.callById(callId).sip.reject(status));
  }

  async hangup(callId: string): Promise<void> {
    await this.guard(() => this.callById(callId).sip.hangup());
  }


  /** Hold or resume a call; resuming one puts the call that was talking on hold first (a swap). */
  async hold(callId: string, on: boolean): Promise<void> {
    const call = this.callById(callId);
    if (!on) await this.setAsideOthers(call, 'hold');
    const status = await this.guard(() => call.sip.hold(on));
    if (status >= 300) throw new PhoneError('CALL_FAILED', `${on ? 'hold' : 'resume'} was answered ${status}`, status);
  }

  async mute(callId: string, on: boolean): Promise<void> {
    const call = this.callById(callId);
    call.muted = on;
    const media = call.media;
    if (media) media.muted = on;
    this.emitCall(call);
  }

  async sendDtmf(callId: string, digits: string, method: DtmfMethod = 'rfc4733'): Promise<void> {
    if (!/^[0-9A-D*#]+$/i.test(digits)) throw new PhoneError('INVALID_ARGUMENT', `"${digits}" are not DTMF digits (0-9, *, #, A-D)`);
    const call = this.callById(callId);
    if (method === 'info') {
      // one INFO at a time, each after the last one's answer (sip-call.ts): the digits arrive in order, none refused
      for (const digit of digits.toUpperCase()) {
        const status = await this.guard(() => call.sip.info('application/dtmf-relay', `Signal=${digit}\r\nDuration=160\r\n`));
        if (status >= 300) throw new PhoneError('CALL_FAILED', `the INFO for DTMF "${digit}" was answered ${status}`, status);
      }
      return;
    }
    const handler = call.sip.sessionDescriptionHandler;
    if (!handler || !handler.sendDtmf(digits)) throw new PhoneError('MEDIA_FAILED', 'RFC 4733 DTMF is not available on this call');
  }

  /**
   * A call of ours the user set aside while it still rang ("Hold and answer" on a waiting call: nothing to hold yet) is
   * put on hold as soon as it is answered (RFC 3264 §8.4), as Linphone pauses it: it stayed off hold beside the call the
   * user chose, and took the audio from it.
   */
  private holdIfSetAside(call: PhoneCall): void {
    if (!this.holdWhenAnswered.delete(call.id)) return;
    // the call the user chose may have ended meanwhile: then this one is the only one, and talks
    if (!this.all().some((c) => c !== call && c.sip.state === 'established' && !c.sip.localHold)) return;
    void this.guard(() => call.sip.hold(true)).catch((error: PhoneError) => this.options.emit({ type: 'error', code: error.code, message: `holding a call answered after it was set aside: ${error.message}` }));
  }

  /**
   * Hold (or end) every other established call that is not on hold yet: `call` is to have the audio. A call of ours
   * still ringing is cancelled (`hangup`) or held once it is answered (`hold`).
   */
  private async setAsideOthers(call: PhoneCall, others: OtherCalls): Promise<void> {
    // the user's own calls only: not a forwarding leg, nor the call a transfer asked us to place (the phone's own work)
    const ours = (c: PhoneCall): boolean => c.forwardedTo === undefined && c.transferredFrom === undefined;
    for (const ringing of this.all().filter((c) => c !== call && ours(c) && c.sip.direction === 'outgoing' && (c.sip.state === 'calling' || c.sip.state === 'ringing'))) {
      if (others === 'hold') this.holdWhenAnswered.add(ringing.id);
      // it may end meanwhile (answered elsewhere, refused): nothing left to cancel
      else await this.guard(() => ringing.sip.hangup()).catch(() => undefined);
    }
    const talking = this.all().filter((c) => c !== call && c.sip.state === 'established' && !c.sip.localHold);
    for (const other of talking) {
      if (others === 'hangup') {
        await this.guard(() => other.sip.hangup());
        continue;
      }
      const status = await this.guard(() => other.sip.hold(true)).catch((error: PhoneError) => {
        if (other.sip.state === 'terminated') return 0; // it ended meanwhile: nothing left to hold
        throw error;
      });
      // RFC 3261 §12.2.2: 481 says the peer's dialog is gone (its BYE crossed our re-INVITE): nothing left to hold.
      if (status === 481) continue;
      if (status >= 300) throw new PhoneError('CALL_FAILED', `holding the other call was answered ${status}`, status);
    }
  }

  /** The live SIP call behind a call id (scenario runner and media wiring). */
  sipCall(callId: string): SipCall {
    return this.callById(callId).sip;
  }

  /** The plain-RTP media session of a live call, once negotiated (scenario steps play, record, and media checks). */
  mediaOf(callId: string): MediaSession | undefined {
    return this.calls.get(callId)?.media;
  }

  /** Shutdown: hang up every call, waiting at most `graceMs` for them to end. */
  async hangUpAll(graceMs: number): Promise<void> {
    await Promise.race([Promise.allSettled(this.all().map((c) => c.sip.hangup())), new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    this.mediaTimeout.stop(); // a call that outlived the grace ends with the phone, not by a timeout after it
  }

  private callById(callId: string): PhoneCall {
    const call = this.calls.get(callId);
    if (!call) throw new PhoneError('UNKNOWN_CALL', `no active call "${callId}"`);
    return call;
  }

  /** Map SIP-layer failures to PhoneErrors with codes a UI understands. */
  private async guard<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if (error instanceof PhoneError) throw error;
      if (error instanceof SipCallError) throw new PhoneError(error.code === 'INVALID_STATE' ? 'INVALID_STATE' : 'CALL_FAILED', error.message, error.status);
      throw new PhoneError('CALL_FAILED', (error as Error).message);
    }
  }
}

/**
 * Where a call's traced messages go: its call log, by id. Made here rather than inline so the closure holds the id and
 * the recorder only — the trace router keeps it 32 s after the call ends (late retransmissions), and an inline one
 * would keep the whole call (its SIP session, media and listeners) that long: at 50 calls/s, 1,600 ended calls.
 */
function callLogSink(callLog: CallRecorder, callId: string): (entry: SipTapEntry) => void {
  return (entry) => callLog.appendMessage(callId, entry);
}
