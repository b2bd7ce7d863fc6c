// sip.js 0.21 loses the ACK of a re-INVITE's 2xx in two ways, and a call can then be held or resumed no more (every
// later re-INVITE from the peer gets 500, RFC 6337 §4.3) until Timer L ends it. Both were seen under packet loss
// (test/interop/udp-loss.test.ts with many holds and resumes):
// - While it still waits for the initial INVITE's ACK (that one lost), it takes every ACK for that one, and drops the
//   ACK of a re-INVITE it has accepted meanwhile as "unexpected" (RFC 3261 §13.3.1.4: retransmissions of a 2xx cease
//   when the ACK *for that response* arrives). An ACK whose CSeq is the pending re-INVITE's is now that re-INVITE's.
// - The 2xx of each re-INVITE is retransmitted (RFC 6026 §8.1) by a timer chain that went on while *any* re-INVITE was
//   pending, not only its own, and that shared one timer handle with the initial 2xx's chain and every other, so one
//   chain's end could cancel another's next retransmission. Each re-INVITE's chain now keeps its own timer, stops once
//   its own re-INVITE is acknowledged or the dialog is closed, and is cleared when its transaction ends.
//
// Applied after sipjs-fault-guard.js: the chain it rewrites is the one that patch split into a guarded timer and its body.
import { applyPatch, isMain } from './sipjs-patch.js';

const marker = 'veilphone: re-INVITE ACK matching';

const files = [
  {
    file: 'core/dialogs/session-dialog.js',
    replace: [
      [
        `            if (this.ackWait) {
                if (this.initialTransaction instanceof InviteClientTransaction) {`,
        `            // ${marker} (tools/postinstall/sipjs-reinvite-ack-matching.js): the ACK of the pending re-INVITE is its own
            const forReinvite = this.reinviteUserAgentServer !== undefined && this.reinviteUserAgentServer.transaction.request.cseq === message.cseq;
            if (this.ackWait && !forReinvite) {
                if (this.initialTransaction instanceof InviteClientTransaction) {`,
      ],
      [
        `            const retransmitReinvite2xx = () => {
                if (!this.reinviteUserAgentServer) {
                    this.invite2xxTimer = undefined;
                    return;
                }
                this.logger.log("No ACK for 2xx response received, attempting retransmission");
                transaction.retransmitAcceptedResponse();
                timeout = Math.min(timeout * 2, Timers.T2);
                this.invite2xxTimer = setTimeout(retransmission, timeout);
            };
            this.invite2xxTimer = setTimeout(retransmission, timeout);`,
        `            // ${marker}: this re-INVITE's own chain and timer
            const pending = this.reinviteUserAgentServer;
            let chainTimer;
            const retransmitReinvite2xx = () => {
                if (this.reinviteUserAgentServer !== pending || this._signalingState === SignalingState.Closed) {
                    chainTimer = undefined;
                    return;
                }
                this.logger.log("No ACK for 2xx response received, attempting retransmission");
                transaction.retransmitAcceptedResponse();
                timeout = Math.min(timeout * 2, Timers.T2);
                chainTimer = setTimeout(retransmission, timeout);
            };
            chainTimer = setTimeout(retransmission, timeout);
            const chainEnded = () => {
                if (transaction.state !== TransactionState.Terminated) return;
                transaction.removeStateChangeListener(chainEnded);
                if (chainTimer) clearTimeout(chainTimer);
                chainTimer = undefined;
            };
            transaction.addStateChangeListener(chainEnded);`,
      ],
    ],
  },
];

export const reinviteAckMatchingPatch = { marker, what: 'sip.js matches the ACK of a re-INVITE to that re-INVITE, and retransmits each 2xx on its own', files };

if (isMain(import.meta.url)) applyPatch(reinviteAckMatchingPatch);
