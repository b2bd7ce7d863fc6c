import type { PhoneEvent, TransferTarget } from '../api/phone-types.js';
import { relayMedia } from '../media/media-relay.js';
import type { SipCall } from '../sip/sip-call.js';
import type { CallControl } from './call-control.js';
import type { FailedStep } from './failure-tally.js';
import type { OutgoingCalls } from './outgoing-call.js';
import type { AccountRuntime } from './phone-accounts.js';
import type { PhoneCall } from './phone-call.js';
import type { EmitPhoneEvent } from './phone-events.js';

export interface ForwardByCallOptions {
  calls: CallControl;
  outgoing: OutgoingCalls;
  /** The transferor side of call-transfer.ts: REFER with Replaces, settled once the peer accepted or refused it. */
  transfer: (callId: string, target: TransferTarget) => Promise<void>;
  emit: EmitPhoneEvent;
  /** The phone's events: a call's transfer progress arrives as its `call` events. */
  subscribe: (listener: (event: PhoneEvent) => void) => () => void;
  failed: FailedStep;
  /** The host's audio port, when there is one: a relayed call's audio is not the user's to hear. */
  audio?: { detach(callId: string): void };
  /** How long the target has to end the call it replaced before the phone ends it (default 4 s, 8·T1). */
  replacedGraceMs?: number;
}

/**
 * RFC 3261 §20.5: a UA lists the methods it supports in Allow; a caller whose INVITE does not list REFER cannot be
 * counted on to act on one (RFC 3515 §2.4.2 lets it answer 405/501), so it is forwarded by a 302 instead.
 */
export function callerTakesRefer(sip: SipCall): boolean {
  return (sip.inviteHeaders.allow ?? []).some((value) => value.split(',').some((method) => method.trim().toUpperCase() === 'REFER'));
}

/** What the caller is told when the forward target could not be reached: its own refusal when it is one of these. */
function refusalFor(status: number | undefined): number {
  return status !== undefined && [403, 404, 480, 486, 600, 603].includes(status) ? status : 480;
}

/**
 * Call forwarding by the phone placing the call (issue 22 item 4, docs/forwarding.md): the caller keeps hearing
 * ringing (180) while the phone calls the forward target from the account; when the target answers, the caller is
 * answered and handed to it by REFER with Replaces naming the phone's call with the target (RFC 3515, RFC 3891 §3,
 * RFC 5589 §7), so media flows between them directly and the phone leaves both calls. Both of the phone's calls are
 * muted: the user's microphone never reaches them. A caller that refuses the REFER, or whose new call fails (the
 * NOTIFY's final status), stays connected through the phone, which relays the audio between the two calls until either
 * side hangs up. The target refusing (busy, declined, not there) is passed on to the caller.
 */
export class ForwardByCall {
  constructor(private readonly options: ForwardByCallOptions) {}

  /** Forward `incoming` to `uri` by calling it; `rung` when the caller already had its 180. */
  start(account: AccountRuntime, incoming: PhoneCall, uri: string, rung: boolean): void {
    const { calls, failed } = this.options;
    incoming.forwardedTo = uri;
    calls.changed(incoming);
    if (!rung) void incoming.sip.ring().catch(failed('ringing (180) while forwarding')); // RFC 3261 §21.1.2
    void this.options.outgoing
      .call({ accountId: account.config.id, target: uri })
      .then((snapshot) => {
        const placed = calls.get(snapshot.id);
        placed.forwardedTo = uri;
        void calls.mute(placed.id, true);
        // the caller gave up while the target rang (CANCEL): the target's call is cancelled too
        void incoming.sip.whenEnded().then(() => {
          if (placed.sip.state !== 'terminated' && placed.sip.state !== 'established') void calls.hangup(placed.id).catch(failed('cancelling a forwarding call'));
        });
        let answered = false;
        // answered here after all (through the API while the target rang): the target's call is cancelled
        incoming.sip.onChange((sip) => {
          if (sip.state === 'established' && !answered && placed.sip.state !== 'terminated') void calls.hangup(placed.id).catch(failed('cancelling a forwarding call'));
        });
        placed.sip.onChange((sip) => {
          if (sip.state === 'established' && !answered) {
            answered = true;
            void this.handOver(incoming, placed).catch((error: Error) => this.giveUp(incoming, placed, `forwarding ${incoming.remote.shown} to ${uri} failed: ${error.message}`));
          } else if (sip.state === 'terminated' && !answered && incoming.sip.state === 'incoming') {
            void incoming.sip.reject(refusalFor(sip.finalStatus)).catch(failed('refusing a call its forward target refused'));
          }
        });
      })
      .catch((error: Error) => {
        this.options.emit({ type: 'error', code: 'CALL_FAILED', message: `forwarding to ${uri}: ${error.message}` });
        if (incoming.sip.state === 'incoming') void incoming.sip.reject(480).catch(failed('refusing a call that could not be forwarded'));
      });
  }

  /** The target answered: answer the caller (muted) and ask it to replace our call with the target (RFC 3891). */
  private async handOver(incoming: PhoneCall, placed: PhoneCall): Promise<void> {
    const calls = this.options.calls;
    if (incoming.sip.state !== 'incoming') {
      await calls.hangup(placed.id); // the caller left just as the target answered
      return;
    }
    await calls.mute(incoming.id, true);
    await incoming.sip.answer();
    await new Promise<void>((resolve) => {
      // RFC 3515 §2.4.1: the REFER goes in the confirmed dialog, once the caller's ACK arrived
      const done = (): boolean => incoming.sip.state !== 'incoming';
      if (done()) return resolve();
      const stop = incoming.sip.onChange(() => done() && (stop(), resolve()));
    });
    if ((incoming.sip.state as string) !== 'established') {
      await calls.hangup(placed.id);
      return;
    }
    try {
      await this.options.transfer(incoming.id, { replaces: placed.id });
    } catch {
      // RFC 3515 §2.4.2: the caller refused the REFER (405, 501, 403...): the phone stays in the middle
      this.relay(incoming, placed);
      return;
    }
    // the NOTIFYs follow the caller's new call (RFC 3515 §2.4.5); call-transfer.ts hangs up once it succeeded, and a
    // failed one (the caller could not reach the target) leaves both calls up: relay them
    const stop = this.options.subscribe((event) => {
      if (event.type !== 'call' || event.call.id !== incoming.id) return;
      const state = event.call.transfer?.state;
      if (state === 'failed' || state === 'succeeded' || event.call.state === 'terminated') stop();
      if (state === 'failed' && incoming.sip.state === 'established' && placed.sip.state === 'established') this.relay(incoming, placed);
      if (state === 'succeeded') this.leaveReplaced(placed);
    });
    if (incoming.transfer?.state === 'failed') {
      stop();
      this.relay(incoming, placed);
    } else if (incoming.transfer?.state === 'succeeded') {
      stop();
      this.leaveReplaced(placed);
    }
  }

  /**
   * The caller reached the target with Replaces naming the phone's call, which the target should now end (RFC 3891
   * §3). A target that ignores Replaces (baresip 1.0 takes it as a new call) left that call up, unseen in any view and
   * holding the account's call slots: after a grace the phone ends it itself.
   */
  private leaveReplaced(placed: PhoneCall): void {
    const timer = setTimeout(() => {
      if (placed.sip.state !== 'terminated') void this.options.calls.hangup(placed.id).catch(this.options.failed('ending a replaced forwarding call'));
    }, this.options.replacedGraceMs ?? 4000);
    timer.unref?.();
    void placed.sip.whenEnded().then(() => clearTimeout(timer));
  }

  /** The caller could not be handed over: relay the audio between it and the target until either hangs up. */
  private relay(incoming: PhoneCall, placed: PhoneCall): void {
    const a = incoming.media;
    const b = placed.media;
    if (!a || !b) {
      this.giveUp(incoming, placed, `the caller could not be transferred to ${placed.remote.uri}, and the calls have no audio to relay`);
      return;
    }
    // the caller and the target talk through the phone: nothing of it goes to the host's speaker or comes from its microphone
    for (const call of [incoming, placed]) this.options.audio?.detach(call.id);
    const stop = relayMedia(a, b);
    const failed = this.options.failed('ending the other side of a relayed forward');
    const endBoth = (): void => {
      stop();
      for (const call of [incoming, placed]) if (call.sip.state !== 'terminated') void this.options.calls.hangup(call.id).catch(failed);
    };
    void incoming.sip.whenEnded().then(endBoth);
    void placed.sip.whenEnded().then(endBoth);
  }

  private giveUp(incoming: PhoneCall, placed: PhoneCall, message: string): void {
    this.options.emit({ type: 'error', code: 'CALL_FAILED', message });
    const failed = this.options.failed('ending a forward that failed');
    for (const call of [incoming, placed]) {
      if (call.sip.state === 'incoming') void call.sip.reject(480).catch(failed);
      else if (call.sip.state !== 'terminated') void this.options.calls.hangup(call.id).catch(failed);
    }
  }
}
