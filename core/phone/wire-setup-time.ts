import type { SipTapEntry } from '../sip/transport/message-tap.js';

const inviteCSeq = /\r\nCSeq:[ \t]*\d+[ \t]+INVITE[ \t]*\r\n/i;

/**
 * An outgoing call's setup time as the wire saw it: from its first INVITE leaving the socket to the first 2xx to an
 * INVITE arriving (the call's trace stamps both as they cross the socket). The SIP stack's own stamps also count the
 * SDP offer made before the INVITE and the answer applied after the 2xx (the outsider review: p50 9 ms reported, 5.7 ms
 * on the wire).
 */
export class WireSetupTime {
  private inviteAt: number | undefined;
  private answeredAt: number | undefined;

  see(entry: SipTapEntry): void {
    if (this.answeredAt !== undefined) return;
    if (entry.dir === 'out') {
      if (this.inviteAt === undefined && entry.raw.startsWith('INVITE ')) this.inviteAt = entry.at;
    } else if (this.inviteAt !== undefined && entry.raw.startsWith('SIP/2.0 2') && inviteCSeq.test(entry.raw)) {
      this.answeredAt = entry.at;
    }
  }

  /** In ms, once both were seen. */
  get ms(): number | undefined {
    return this.inviteAt !== undefined && this.answeredAt !== undefined ? this.answeredAt - this.inviteAt : undefined;
  }
}
