import { randomInt } from 'node:crypto';
import type { Invitation } from 'sip.js';
import type { SessionDialog } from 'sip.js/lib/core/dialogs/session-dialog.js';
import type { IncomingPrackRequest } from 'sip.js/lib/core/messages/methods/prack.js';

/** Whether a list of option-tag header values (Require, Supported) names `tag`, token by token (RFC 3261 §20.32). */
export function namesOptionTag(values: readonly string[], tag: string): boolean {
  const wanted = tag.toLowerCase();
  return values.some((value) => value.split(',').some((token) => token.trim().toLowerCase() === wanted));
}

/** The parts of sip.js's Invitation this file drives; its typings keep them private. */
interface InvitationInternals {
  /** sip.js's own choice of reliable provisionals ('required', 'supported', 'none'): set to 'none' here. */
  rel100: string;
}

/**
 * A UAS's reliable provisional responses for one incoming INVITE (RFC 3262 §3), made here rather than by sip.js 0.21,
 * whose own ones a peer that requires them cannot rely on: it sends them unreliably when the INVITE says both
 * `Require: 100rel` and `Supported: 100rel`; its 180 goes out as a 183 carrying our SDP answer (media before the user
 * answers); it acknowledges any PRACK without reading RAck and leaves one that matches nothing unanswered (§3: 481);
 * its first RSeq can be 0 (§3: 1 to 2**31-1); and a PRACK after the 200 throws inside sip.js.
 *
 * Ours carry no session description (§5 lets the UAS answer in the 2xx), so the 2xx never waits for the PRACK (§3).
 */
export class ReliableProvisionals {
  /** The RSeq of the next reliable provisional response; the first is random in 1..2**31-1 (§3). */
  private nextRseq = randomInt(1, 2 ** 31);
  private unacknowledged: { rseq: number; statusCode: number; headers: string[] } | undefined;
  private retransmitTimer: NodeJS.Timeout | undefined;
  private finalSent = false;
  /** PRACKs answered 200 (acknowledged), 481 (unmatched) and 491 (an offer while ours is open), for the tests. */
  readonly pracks = { acknowledged: 0, unmatched: 0, offers: 0 };

  constructor(
    private readonly invitation: Invitation,
    private readonly t1: number,
    /** §3: nothing acknowledged the response for 64·T1: the INVITE is to be refused with a 5xx. */
    private readonly onGiveUp: () => void,
  ) {
    (invitation as unknown as InvitationInternals).rel100 = 'none';
  }

  /** Whether the peer requires reliable provisional responses of us (RFC 3262 §3: it said `Require: 100rel`). */
  static required(invitation: Invitation): boolean {
    const request = invitation.request;
    return namesOptionTag(request.getHeaders('require'), '100rel');
  }

  /**
   * Send `statusCode` reliably: Require: 100rel and the next RSeq, retransmitted at T1, 2·T1, 4·T1... until its PRACK
   * comes (§3). While one is unacknowledged no other is sent (§3: the UAS MUST NOT send a second reliable provisional
   * response until the first is acknowledged; after it, RECOMMENDED).
   */
  async send(statusCode: number): Promise<void> {
    if (this.unacknowledged || this.finalSent) return;
    const rseq = this.nextRseq;
    this.nextRseq = rseq + 1; // §7.1: a 32-bit count that starts below 2**31, so a call's few 18x never wrap it
    const headers = ['Require: 100rel', `RSeq: ${rseq}`];
    this.unacknowledged = { rseq, statusCode, headers };
    await this.invitation.progress({ statusCode, extraHeaders: headers });
    this.listenForPrack();
    this.scheduleRetransmission(this.t1, Date.now() + 64 * this.t1);
  }

  /**
   * The INVITE got its final response: no more retransmissions (§3: SHOULD NOT continue), but a PRACK for the
   * outstanding response is still answered, and any other PRACK gets 481. sip.js gave the confirmed dialog a delegate of
   * its own, whose PRACK handler throws once the call is up: ours goes back on.
   */
  onFinalResponse(): void {
    this.finalSent = true;
    this.stopRetransmitting();
    this.listenForPrack();
  }

  dispose(): void {
    this.finalSent = true;
    this.stopRetransmitting();
  }

  private listenForPrack(): void {
    const dialog = this.invitation.dialog as SessionDialog | undefined;
    if (!dialog) return;
    dialog.delegate = { ...dialog.delegate, onPrack: (request) => this.onPrack(request) };
  }

  private scheduleRetransmission(interval: number, giveUpAt: number): void {
    this.retransmitTimer = setTimeout(() => {
      this.retransmitTimer = undefined;
      const pending = this.unacknowledged;
      if (!pending || this.finalSent) return;
      if (Date.now() >= giveUpAt) {
        this.finalSent = true;
        this.onGiveUp();
        return;
      }
      this.invitation.progress({ statusCode: pending.statusCode, extraHeaders: pending.headers }).then(
        () => this.scheduleRetransmission(interval * 2, giveUpAt),
        () => this.stopRetransmitting(), // the INVITE was answered or cancelled meanwhile
      );
    }, interval);
    this.retransmitTimer.unref();
  }

  private stopRetransmitting(): void {
    if (this.retransmitTimer) clearTimeout(this.retransmitTimer);
    this.retransmitTimer = undefined;
  }

  /**
   * §3: a PRACK whose RAck names the unacknowledged response (its RSeq, the INVITE's CSeq and method) gets 200; any
   * other 481. Our 18x carried no answer, so the INVITE's offer is still open and an offer in the PRACK is one too many
   * (RFC 3261 §13.2.1, RFC 3262 §5): 491, and the 18x stays unacknowledged until a PRACK without one comes.
   */
  private onPrack(request: IncomingPrackRequest): void {
    const rack = /^\s*(\d{1,10})\s+(\d{1,10})\s+([A-Za-z]+)\s*$/.exec(request.message.getHeader('rack') ?? '');
    const pending = this.unacknowledged;
    const invite = this.invitation.request;
    const matches = pending !== undefined && rack !== null && Number(rack[1]) === pending.rseq && Number(rack[2]) === invite.cseq && rack[3] === 'INVITE';
    if (matches && request.message.body && /^\s*application\/sdp\b/i.test(request.message.getHeader('content-type') ?? '')) {
      this.pracks.offers++;
      request.reject({ statusCode: 491, reasonPhrase: 'Request Pending' });
      return;
    }
    if (matches) {
      this.unacknowledged = undefined;
      this.stopRetransmitting();
      this.pracks.acknowledged++;
      request.accept({ statusCode: 200 });
      return;
    }
    this.pracks.unmatched++;
    request.reject({ statusCode: 481, reasonPhrase: 'Call/Transaction Does Not Exist' });
  }
}
