import type { SipCall } from '../sip/sip-call.js';
import type { SipIdentity } from '../sip/sip-identity.js';
import { formatEndpoint } from '../sip/transport/endpoint.js';
import { detectIncomingAnonymity } from '../privacy/incoming-anonymity.js';
import type { CallControl } from './call-control.js';
import { hostOfUri } from './host-of-uri.js';
import type { MediaFactoryProvider } from './media-factory.js';
import { accountMediaEncryption } from './account-tls.js';
import type { AccountRuntime } from './phone-accounts.js';
import { partyFrom, PhoneCall, signalingOf } from './phone-call.js';
import type { FailedStep } from './failure-tally.js';
import type { EmitPhoneEvent } from './phone-events.js';
import { leaseStatus, type PhoneLease } from './phone-lease.js';

export interface IncomingAdmissionOptions {
  calls: CallControl;
  /** Calls at once, incoming and outgoing: beyond it an INVITE gets 486 and is only counted. */
  maxCalls: number;
  /** The media provider: its offerProblem says why an SDP offer cannot be answered. */
  media: MediaFactoryProvider;
  lease: () => PhoneLease | undefined;
  emit: EmitPhoneEvent;
  /** Counts an answer that could not be sent (the caller may have left already). */
  failed: FailedStep;
}

/**
 * Which incoming INVITEs become calls: over the call limit, a loop, an offer the media cannot answer, a lost lease or
 * an account that rejects are turned away (logged, never ringing); the rest ring, and auto-answer when the account
 * says so.
 */
export class IncomingAdmission {
  /** Incoming calls turned away because `maxCalls` were going on, and when that was last reported. */
  private refusedOverLimit = 0;
  private lastLimitReport = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: IncomingAdmissionOptions) {}

  onIncoming(account: AccountRuntime, sip: SipCall, identity: SipIdentity): void {
    const calls = this.options.calls;
    const maxCalls = this.options.maxCalls;
    // SPEC A: an anonymous caller is shown as such, with no callback number.
    const anonymity = detectIncomingAnonymity({
      ...(sip.remote.user !== undefined ? { fromUser: sip.remote.user } : {}),
      ...(sip.remote.display !== undefined ? { fromDisplay: sip.remote.display } : {}),
      ...(hostOfUri(sip.remote.uri) !== undefined ? { fromHost: hostOfUri(sip.remote.uri)! } : {}),
      ...(sip.inviteHeaders.privacy?.[0] !== undefined ? { privacy: sip.inviteHeaders.privacy[0] } : {}),
    });
    if (calls.size >= maxCalls) {
      void sip.reject(486, 'Busy Here').catch(this.options.failed('refusing an INVITE over the call limit')); // RFC 3261 §21.4.24
      this.refusedOverLimit++;
      const now = Date.now();
      if (now - this.lastLimitReport >= 10_000) {
        this.lastLimitReport = now;
        this.options.emit({ type: 'error', code: 'TOO_MANY_CALLS', message: `incoming calls refused with 486: ${calls.size} calls at once is the most (${this.refusedOverLimit} refused so far)` });
      }
      return;
    }
    // RFC 3261 §8.2.2.2: a Call-ID this account already has a call for is a merged request or a loop — a forking
    // registrar delivering one INVITE to two of its identities (the receiving one and a per-call sending one), or the
    // account's own INVITE coming back to it (it called its own number; sip.js would have caught that by its
    // per-UserAgent Call-ID prefix, which sip-identity.ts no longer uses).
    if (calls.all().some((c) => c.accountId === account.config.id && c.sip.callId === sip.callId && c.sip !== sip)) {
      void sip.reject(482, 'Loop Detected').catch(this.options.failed('refusing a looped INVITE'));
      return;
    }
    const call = new PhoneCall(account.config.id, sip, partyFrom(sip.remote, anonymity.anonymous), formatEndpoint(identity.local));
    call.localAddress = identity.advertisedAddress;
    call.signaling = signalingOf(identity);
    calls.track(account, call);
    // Seed 000 Fig. 29: a receiving address serves one call, then a new one is registered in its place.
    void sip.whenEnded().then(() => account.identities.incomingEnded(identity).catch((error: Error) => this.options.emit({ type: 'error', code: 'ADDRESS_FAILED', message: error.message })));
    // A call refused at once is logged and shown in the history, but never rings: no incoming event, so no
    // notification and no incoming-call view for a call the user could not take anyway.
    const refusal = this.refusalOf(account, sip, identity);
    if (refusal) {
      void sip.reject(refusal.status, refusal.reason, refusal.headers).catch(this.options.failed('refusing an INVITE'));
      return;
    }
    this.options.emit({ type: 'incoming', call: call.snapshot() });
    void sip.ring().catch(this.options.failed('ringing (180)'));
    const answer = account.config.answer ?? { kind: 'manual' };
    if (answer.kind === 'auto') {
      const answerNow = (): void => void sip.answer().catch(this.options.failed('answering automatically'));
      if (answer.delayMs) setTimeout(answerNow, answer.delayMs);
      else setImmediate(answerNow); // after the 180 went out, without a timer's extra millisecond
    }
  }

  /** Why an incoming call is refused before it rings, if it is: what to answer. */
  private refusalOf(account: AccountRuntime, sip: SipCall, identity: SipIdentity): { status: number; reason?: string; headers?: string[] } | undefined {
    const offer = sip.inviteBody;
    const problem = offer && /^application\/sdp\b/i.test(offer.contentType) ? this.options.media.offerProblem?.(offer.body, accountMediaEncryption(account.config).encryption) : undefined;
    if (problem !== undefined) {
      // RFC 3261 §21.4.26 with a Warning (§20.43, code 305: incompatible media format) saying what was wrong.
      const warning = `305 ${identity.local.address.includes(':') ? `[${identity.local.address}]` : identity.local.address} "${problem.replace(/["\\\r\n]/g, ' ').slice(0, 120)}"`;
      return { status: 488, reason: 'Not Acceptable Here', headers: [`Warning: ${warning}`] };
    }
    const lease = this.options.lease();
    if (lease && leaseStatus(lease).state === 'lost') return { status: 503, reason: 'Service Unavailable (lease lost)' }; // RFC 3261 §21.5.4
    const answer = account.config.answer ?? { kind: 'manual' };
    if (answer.kind === 'reject') return { status: answer.status };
    return undefined;
  }
}
