import type { Notification, Referral } from 'sip.js';
import { shownReason } from '../privacy/shown-name.js';
import { PhoneError } from '../api/phone-error.js';
import type { CallRequest, TransferStatus, TransferTarget } from '../api/phone-types.js';
import { matchDialRules } from '../privacy/dial-plan.js';
import { SipCallError } from '../sip/sip-call.js';
import type { CallControl } from './call-control.js';
import { dialTargetToUri } from './dial-target.js';
import type { OutgoingCalls } from './outgoing-call.js';
import type { AccountRuntime } from './phone-accounts.js';
import type { PhoneCall } from './phone-call.js';
import type { FailedStep } from './failure-tally.js';

export interface CallTransfersOptions {
  calls: CallControl;
  outgoing: OutgoingCalls;
  account: (accountId: string) => AccountRuntime;
  failed: FailedStep;
}

/**
 * Call transfer by REFER (RFC 3515, RFC 5589): as the transferor (blind to a URI, or attended with Replaces,
 * RFC 3891 §5), and as the transferee, which places the new call and reports its progress in NOTIFYs. The transfer
 * target's side (an INVITE with Replaces) is incoming admission's (incoming-admission.ts).
 */
export class CallTransfers {
  constructor(private readonly options: CallTransfersOptions) {}

  /** Transferor: send the REFER; resolves once it is accepted (2xx), TRANSFER_FAILED when it is refused. */
  async transfer(callId: string, target: TransferTarget): Promise<void> {
    const calls = this.options.calls;
    const call = calls.get(callId);
    let referTo: string | PhoneCall;
    let shown: string;
    if ('replaces' in target) {
      if (target.replaces === callId) throw new PhoneError('INVALID_ARGUMENT', 'a call cannot replace itself');
      referTo = calls.get(target.replaces);
      shown = referTo.remote.uri;
    } else {
      const account = this.options.account(call.accountId);
      referTo = dialTargetToUri(matchDialRules(target.to, account.config.dialRules).rest, account.domain);
      shown = referTo;
    }
    const status: TransferStatus = { role: 'transferor', state: 'requested', target: shown, attended: typeof referTo !== 'string' };
    call.transfer = status;
    calls.changed(call);
    let referStatus: number;
    try {
      // RFC 3892 Referred-By names us, unless this call withheld who we are (SPEC A).
      const account = this.options.account(call.accountId);
      const withheld = call.anonymity !== undefined && call.anonymity !== 'none';
      const referredBy = withheld ? undefined : `sip:${account.config.user}@${account.domain}`;
      referStatus = await call.sip.refer(typeof referTo === 'string' ? referTo : referTo.sip, (notification) => this.onNotify(call, status, notification), referredBy);
    } catch (error) {
      status.state = 'failed';
      calls.changed(call);
      if (error instanceof SipCallError) throw new PhoneError(error.code === 'INVALID_STATE' ? 'INVALID_STATE' : 'TRANSFER_FAILED', error.message);
      throw new PhoneError('TRANSFER_FAILED', (error as Error).message);
    }
    if (referStatus >= 300 || referStatus < 200) {
      status.state = 'failed';
      status.status = referStatus;
      calls.changed(call);
      throw new PhoneError('TRANSFER_FAILED', `the REFER was answered ${referStatus}`, referStatus);
    }
    if (status.state === 'requested') status.state = 'trying'; // a NOTIFY may have come before the 202
    calls.changed(call);
  }

  /**
   * RFC 3515 §2.4.5: each NOTIFY carries the new call's status line; the one with `terminated` is the outcome, and so is
   * a final status line under a subscription left active (linphonec reports a failed transfer so: 481, `active`).
   */
  private onNotify(call: PhoneCall, status: TransferStatus, notification: Notification): void {
    const request = notification.request;
    const event = request.getHeader('event') ?? '';
    if (!/^\s*refer\b/i.test(event)) {
      void notification.reject({ statusCode: 489 }).catch(this.options.failed('refusing a NOTIFY of another event')); // RFC 6665 §8.3.2
      return;
    }
    void notification.accept().catch(this.options.failed('accepting a transfer NOTIFY'));
    Object.assign(status, notifiedTransfer(status, request.body ?? '', request.getHeader('subscription-state') ?? ''));
    this.options.calls.changed(call);
    // RFC 5589 §6.1: once the transfer succeeded the transferor ends its call with the transferee.
    if (status.state === 'succeeded') void this.options.calls.hangup(call.id).catch(this.options.failed('hanging up a transferred call'));
  }

  /**
   * Transferee: a REFER in `call` (RFC 3515 §2.4.2). Accept it, say `100 Trying` at once (§2.4.4), place the new call
   * from the same account, and report each step in a NOTIFY until the new call's final status. A call we placed
   * anonymously passes its anonymity on (SPEC A): the target is whom the transferor chose, and the caller withheld
   * itself from the transferor; otherwise the account's default applies.
   */
  onRefer(call: PhoneCall, referral: Referral): void {
    const calls = this.options.calls;
    let target: string;
    let replaces: string | undefined;
    try {
      const uri = referral.referTo.uri.clone();
      replaces = referral.replaces;
      uri.clearHeaders();
      target = uri.toString();
    } catch {
      void referral.reject({ statusCode: 400 }).catch(this.options.failed('refusing a REFER without a usable Refer-To'));
      return;
    }
    if (!/^sips?:/i.test(target)) {
      void referral.reject({ statusCode: 416 }).catch(this.options.failed('refusing a REFER to an unsupported URI scheme')); // RFC 3261 §21.4.16
      return;
    }
    const referCseq = referral.request.cseq;
    const status: TransferStatus = { role: 'transferee', state: 'trying', target, attended: replaces !== undefined };
    call.transfer = status;
    void referral.accept({ statusCode: 202 }).catch(this.options.failed('accepting a REFER')); // RFC 3515 §2.4.2
    call.sip.notifyRefer('SIP/2.0 100 Trying', false, referCseq);
    calls.changed(call);
    const extraHeaders: string[] = [];
    // RFC 3891 §3: Replaces names the dialog to take over; decoded from the Refer-To URI's header.
    if (replaces !== undefined) extraHeaders.push(`Replaces: ${decodeURIComponent(replaces)}`);
    const referredBy = referral.referredBy;
    if (referredBy !== undefined) extraHeaders.push(`Referred-By: ${referredBy}`); // RFC 3892 §3
    const finish = (code: number, reason: string): void => {
      status.status = code;
      status.state = code >= 200 && code < 300 ? 'succeeded' : 'failed';
      call.sip.notifyRefer(`SIP/2.0 ${code} ${reason}`.trim(), true, referCseq);
      calls.changed(call);
    };
    void this.options.outgoing
      .call({ accountId: call.accountId, target, ...withheldAs(call) }, extraHeaders)
      .then((snapshot) => {
        const placed = calls.get(snapshot.id);
        placed.transferredFrom = call.id;
        calls.changed(placed);
        let ringing = false;
        let endTimer: NodeJS.Timeout | undefined;
        placed.sip.onChange((sip) => {
          if (status.state !== 'trying') return;
          if (sip.state === 'ringing' && !ringing) {
            ringing = true;
            status.status = 180;
            call.sip.notifyRefer('SIP/2.0 180 Ringing', false, referCseq);
            calls.changed(call);
          } else if (sip.state === 'established') {
            finish(200, 'OK');
          } else if (sip.state === 'terminated' && sip.finalStatus !== undefined) {
            // the target's reason phrase goes on to the transferor in a sipfrag (RFC 3515 §2.4.5): cleaned, as it is shown
            finish(sip.finalStatus >= 300 ? sip.finalStatus : 487, sip.finalStatus >= 300 ? shownReason(sip.finalReason ?? '') : 'Request Terminated');
          } else if (sip.state === 'terminated' && !endTimer) {
            // sip.js may end the session just before it hands over the final response (sip-call.ts): wait for it a
            // moment; a call that ended with no response at all (Timer B) is reported as 408 (RFC 3261 §17.1.1.2).
            endTimer = setTimeout(() => status.state === 'trying' && finish(408, 'Request Timeout'), 1000);
            endTimer.unref();
          }
        });
      })
      .catch((error: Error) => {
        // RFC 3515 §2.4.5: the REFER was accepted, so its failure is told by NOTIFY (503: the call could not be placed).
        finish(503, 'Service Unavailable');
        this.options.failed('placing the call a REFER asked for')(error);
      });
  }
}

/** The anonymity a transferee's new call keeps: that of a call it placed anonymously (none asked otherwise). */
function withheldAs(call: PhoneCall): Pick<CallRequest, 'anonymity' | 'anonymityLevel'> {
  if (call.anonymity === undefined || call.anonymity === 'none') return {};
  return { anonymity: call.anonymity, ...(call.anonymityLevel !== undefined ? { anonymityLevel: call.anonymityLevel } : {}) };
}

/**
 * A transferor's view of its transfer after a NOTIFY (RFC 3515 §2.4.5): the new call's status from the sipfrag, and the
 * outcome once known — the NOTIFY with `terminated`, or one whose status line is final under a subscription left
 * active (linphonec reports a failed transfer so: 481, `active`; waiting for a `terminated` showed nothing at all).
 */
export function notifiedTransfer(status: Pick<TransferStatus, 'state' | 'status'>, sipfrag: string, subscriptionState: string): Pick<TransferStatus, 'state' | 'status'> {
  const line = /^SIP\/2\.0\s+(\d{3})\b/.exec(sipfrag);
  const code = line ? Number(line[1]) : status.status;
  const next: Pick<TransferStatus, 'state' | 'status'> = { state: status.state, ...(code !== undefined ? { status: code } : {}) };
  const terminated = /^\s*terminated\b/i.test(subscriptionState);
  if (terminated || (line !== null && code! >= 200)) next.state = code !== undefined && code >= 200 && code < 300 ? 'succeeded' : 'failed';
  else if (status.state === 'requested') next.state = 'trying';
  return next;
}
