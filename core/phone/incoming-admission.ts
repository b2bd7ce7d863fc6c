import { ringScope } from '../household/household-number.js';
import { parseNameAddr } from '../sip/message/index.js';
import type { SipCall } from '../sip/sip-call.js';
import type { SipIdentity } from '../sip/sip-identity.js';
import { formatEndpoint } from '../sip/transport/endpoint.js';
import { detectIncomingAnonymity } from '../privacy/incoming-anonymity.js';
import type { CallControl } from './call-control.js';
import { dialTargetToUri } from './dial-target.js';
import { callerTakesRefer } from './forward-by-call.js';
import { hostOfUri } from './host-of-uri.js';
import type { MediaFactoryProvider } from './media-factory.js';
import { accountMediaEncryption } from './account-tls.js';
import type { AccountRuntime } from './phone-accounts.js';
import { partyFrom, PhoneCall, signalingOf } from './phone-call.js';
import type { FailedStep } from './failure-tally.js';
import type { EmitPhoneEvent } from './phone-events.js';
import { leaseStatus, type PhoneLease } from './phone-lease.js';
import { shownName } from '../privacy/shown-name.js';

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
  /** Forwarding by the phone placing the call (`forward.by: call`, forward-by-call.ts); `rung` once the 180 is out. */
  forwardByCall: (account: AccountRuntime, call: PhoneCall, uri: string, rung: boolean) => void;
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
      // judged as shown: a name that reads "Anonymous" on screen is taken as anonymous, so no callback is offered
      ...(sip.remote.display !== undefined ? { fromDisplay: shownName(sip.remote.display) } : {}),
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
    // RFC 4028 §9: a session interval below our Min-SE, from a caller that supports the timer: 422, and it asks again
    // with the same Call-ID and From tag (RFC 3261 §8.1.3.5). A step of the call, not a call of its own: nothing in the
    // history; its messages wait in the trace router and join the trace of the INVITE that follows (trace-router.ts).
    const tooSmall = sip.sessionIntervalRefusal;
    if (tooSmall) {
      void sip.reject(tooSmall.status, tooSmall.reason, tooSmall.headers).catch(this.options.failed('refusing a short session interval (422)'));
      return;
    }
    // Seed 000 Fig. 29: an address being replaced takes no new call; 480 (not 603) lets a forking registrar try the
    // account's new one (RFC 3261 §16.7 step 6).
    if (!account.identities.takesCalls(identity)) {
      void sip.reject(480, 'Temporarily Unavailable').catch(this.options.failed('refusing an INVITE on an address being replaced'));
      return;
    }
    const replacing = sip.inviteHeaders.replaces?.[0] !== undefined ? this.replacedBy(sip.inviteHeaders.replaces[0]) : undefined;
    const call = new PhoneCall(account.config.id, sip, partyFrom(sip.remote, anonymity.anonymous), formatEndpoint(identity.local));
    call.localAddress = identity.advertisedAddress;
    // seed 001 ¶[57]-[58]: a household terminal says whether the caller dialled the room or this terminal
    const rang = ringScope(account.config.user, toUser(sip.inviteHeaders.to?.[0]));
    if (rang !== undefined) call.rang = rang;
    call.signaling = signalingOf(identity);
    calls.track(account, call);
    // A call refused at once is logged and shown in the history, but never rings: no incoming event, so no
    // notification and no incoming-call view for a call the user could not take anyway.
    const refusal = replacing !== undefined && 'status' in replacing ? replacing : this.refusalOf(account, sip, identity);
    if (refusal) {
      void sip.reject(refusal.status, refusal.reason, refusal.headers).catch(this.options.failed('refusing an INVITE'));
      return;
    }
    // Seed 000 Fig. 29: a receiving address serves one call, then a new one is registered in its place. Not after a
    // call refused at once: its final answer names no address of ours (no Contact, no SDP), and a replacement would
    // leave the phone answering 480 while it registers — a caller refused on purpose could keep it unreachable.
    void sip.whenEnded().then(() => account.identities.incomingEnded(identity).catch((error: Error) => this.options.emit({ type: 'error', code: 'ADDRESS_FAILED', message: error.message })));
    if (replacing !== undefined && 'call' in replacing) {
      // RFC 3891 §3: the new dialog takes the old one's place without ringing, and the old one ends with a BYE.
      call.replaced = replacing.call.id;
      void sip
        .answer()
        .then(() => calls.hangup(replacing.call.id))
        .catch(this.options.failed('taking over a replaced call'));
      return;
    }
    const forward = account.config.forward;
    const talking = calls.all().some((c) => c !== call && c.sip.state === 'established');
    if (forward && (forward.when === 'always' || (forward.when === 'busy' && talking))) {
      this.forward(account, call, false);
      return;
    }
    this.options.emit({ type: 'incoming', call: call.snapshot() });
    const ringing = sip.ring().catch(this.options.failed('ringing (180)'));
    if (forward?.when === 'no-answer') {
      const timer = setTimeout(() => {
        if (sip.state === 'incoming') this.forward(account, call, true);
      }, forward.afterMs ?? 20_000);
      void sip.whenEnded().then(() => clearTimeout(timer));
    }
    const answer = account.config.answer ?? { kind: 'manual' };
    if (answer.kind === 'auto') {
      const answerNow = (): void => void sip.answer().catch(this.options.failed('answering automatically'));
      // only once the 180 is out: a 200 that overtakes it leaves the caller a 180 after the answer (SIPp aborts on it)
      void ringing.then(() => {
        if (answer.delayMs) setTimeout(answerNow, answer.delayMs);
        else setImmediate(answerNow); // without a timer's extra millisecond
      });
    }
  }

  /**
   * Forward by placing the call to the target (`by: call`) when the caller takes REFER; otherwise (`by: redirect`, or a
   * caller without REFER in its Allow) tell it to try the target instead: RFC 3261 §21.3.3, 302 with it as Contact.
   */
  private forward(account: AccountRuntime, call: PhoneCall, rung: boolean): void {
    let uri: string;
    try {
      uri = dialTargetToUri(account.config.forward!.to, account.domain);
    } catch (error) {
      this.options.emit({ type: 'error', code: 'INVALID_TARGET', message: `cannot forward to "${account.config.forward!.to}": ${(error as Error).message}` });
      return;
    }
    if (account.config.forward!.by === 'call' && callerTakesRefer(call.sip)) {
      this.options.forwardByCall(account, call, uri, rung);
      return;
    }
    call.forwardedTo = uri;
    void call.sip.reject(302, 'Moved Temporarily', [`Contact: <${uri}>`]).catch(this.options.failed('forwarding a call (302)'));
  }

  /**
   * RFC 3891 §3: the established call a `Replaces` header field names (`call-id;to-tag=OURS;from-tag=THEIRS`), or
   * what to answer: 481 when there is none, 486 when it is confirmed and the header says `early-only`.
   */
  private replacedBy(value: string): { call: PhoneCall } | { status: number; reason: string; headers?: string[] } {
    const [callId, ...params] = value.split(';').map((part) => part.trim());
    const param = (name: string): string | undefined => params.find((p) => p.toLowerCase().startsWith(`${name}=`))?.slice(name.length + 1);
    const toTag = param('to-tag');
    const fromTag = param('from-tag');
    const call = this.options.calls.all().find((c) => {
      const tags = c.sip.dialogTags;
      return c.sip.callId === callId && tags !== undefined && tags.localTag === toTag && tags.remoteTag === fromTag;
    });
    if (!call || call.sip.state === 'terminated') return { status: 481, reason: 'Call/Transaction Does Not Exist' };
    if (call.sip.state !== 'established') return { status: 481, reason: 'Call/Transaction Does Not Exist (only established calls are replaced)' };
    if (params.some((p) => p.toLowerCase() === 'early-only')) return { status: 486, reason: 'Busy Here' };
    return { call };
  }

  /** Why an incoming call is refused before it rings, if it is: what to answer. */
  private refusalOf(account: AccountRuntime, sip: SipCall, identity: SipIdentity): { status: number; reason?: string; headers?: string[] } | undefined {
    const offer = sip.inviteBody;
    const problem = offer && /^application\/sdp\b/i.test(offer.contentType) ? this.options.media.offerProblem?.(offer.body, accountMediaEncryption(account.config).encryption) : undefined;
    if (problem !== undefined) {
      // RFC 3261 §21.4.26 with a Warning (§20.43, code 305: incompatible media format) saying what was wrong. Its agent
      // is the address the Contact advertised — never the socket's (a signaling-only one-time address sends from the
      // host's own) — and on one-time addresses none at all: the caller is refused before ringing, and the receiving
      // address it was never shown stays in use (it is not replaced after such a call).
      const agent = account.config.address?.mode === 'temporary' ? 'anonymous.invalid' : identity.advertisedAddress;
      const warning = `305 ${agent.includes(':') ? `[${agent}]` : agent} "${problem.replace(/["\\\r\n]/g, ' ').slice(0, 120)}"`;
      return { status: 488, reason: 'Not Acceptable Here', headers: [`Warning: ${warning}`] };
    }
    const lease = this.options.lease();
    if (lease && leaseStatus(lease).state === 'lost') return { status: 503, reason: 'Service Unavailable (lease lost)' }; // RFC 3261 §21.5.4
    // Do not disturb: 486 Busy Here (RFC 3261 §21.4.24) or 603 Decline (§21.6.2), as the user chose.
    if (account.config.doNotDisturb) return { status: account.config.doNotDisturb.status, reason: account.config.doNotDisturb.status === 603 ? 'Decline' : 'Busy Here' };
    const answer = account.config.answer ?? { kind: 'manual' };
    if (answer.kind === 'reject') return { status: answer.status };
    return undefined;
  }
}

/** The user of a To header, or undefined when it does not parse (the call then simply has no ring scope). */
function toUser(to: string | undefined): string | undefined {
  if (to === undefined) return undefined;
  try {
    return parseNameAddr(to).uri.user;
  } catch {
    return undefined;
  }
}
