// sip.js 0.21 ended the process 64·T1 (32 s) after a call it answered when the peer ended the call with BYE without
// ever sending the ACK for the 200 (SIPp's built-in uac through a proxy that dropped its ACK did it, issue 19 item 1).
// The BYE terminated the session and its dialog, but the INVITE server transaction still ran Timer L; when it fired,
// the dialog called Invitation.onAckTimeout, which sent a BYE for the dialog the peer had already ended and then threw
// "Invalid state transition from Terminated to Terminated" out of the timer, uncaught.
// RFC 3261 §13.3.1.4 ends a session whose 2xx was never acknowledged with a BYE; a session that has already ended
// (RFC 3261 §15.1.2: the BYE ended it) has nothing left to end, so the ACK timeout does nothing then.
// For the same reason a dialog that is disposed stops watching its INVITE transaction for that timeout. Before, the
// transaction's state listener held every ended call's dialog (its state, route set and URIs) for the 64·T1 the
// transaction lingers in "Accepted" (RFC 6026 §7.1): 800 dialogs at 25 calls/s, 9,600 at 300 (issue 23).
import { applyPatch, isMain } from './sipjs-patch.js';

const marker = 'veilphone: ACK timeout after the session ended';

const files = [
  {
    file: 'api/invitation.js',
    replace: [
      [
        `    onAckTimeout() {
        this.logger.log("Invitation.onAckTimeout");
        if (!this.dialog) {`,
        `    onAckTimeout() {
        this.logger.log("Invitation.onAckTimeout");
        if (this.state === SessionState.Terminated) {
            // ${marker} (tools/postinstall/sipjs-ack-timeout-after-bye.js): RFC 3261 §15.1.2, a BYE ended it first
            return;
        }
        if (!this.dialog) {`,
      ],
    ],
  },
  {
    file: 'core/dialogs/session-dialog.js',
    replace: [
      [
        `            const stateChanged = () => {
                if (transaction.state === TransactionState.Terminated) {
                    transaction.removeStateChangeListener(stateChanged);
                    if (this.invite2xxTimer) {
                        clearTimeout(this.invite2xxTimer);
                        this.invite2xxTimer = undefined;
                    }
                    if (this.ackWait) {
                        if (this.delegate && this.delegate.onAckTimeout) {
                            this.delegate.onAckTimeout();
                        }
                        else {
                            this.bye();
                        }
                    }
                }
            };
            transaction.addStateChangeListener(stateChanged);`,
        `            const stateChanged = () => {
                if (transaction.state === TransactionState.Terminated) {
                    transaction.removeStateChangeListener(stateChanged);
                    this.ackTimeoutWatch = undefined; // ${marker}
                    if (this.invite2xxTimer) {
                        clearTimeout(this.invite2xxTimer);
                        this.invite2xxTimer = undefined;
                    }
                    if (this.ackWait) {
                        if (this.delegate && this.delegate.onAckTimeout) {
                            this.delegate.onAckTimeout();
                        }
                        else {
                            this.bye();
                        }
                    }
                }
            };
            transaction.addStateChangeListener(stateChanged);
            this.ackTimeoutWatch = { transaction, stateChanged }; // ${marker}: dispose() stops it`,
      ],
      [
        `        if (this.invite2xxTimer) {
            clearTimeout(this.invite2xxTimer);
            this.invite2xxTimer = undefined;
        }
        // The UAS MUST still respond`,
        `        if (this.invite2xxTimer) {
            clearTimeout(this.invite2xxTimer);
            this.invite2xxTimer = undefined;
        }
        if (this.ackTimeoutWatch) {
            // ${marker} (tools/postinstall/sipjs-ack-timeout-after-bye.js): an ended dialog has no ACK left to wait for
            this.ackTimeoutWatch.transaction.removeStateChangeListener(this.ackTimeoutWatch.stateChanged);
            this.ackTimeoutWatch = undefined;
        }
        // The UAS MUST still respond`,
      ],
    ],
  },
];

export const ackTimeoutAfterByePatch = { marker, what: 'sip.js lets an ACK timeout pass quietly once a BYE has ended the session', files };

if (isMain(import.meta.url)) applyPatch(ackTimeoutAfterByePatch);
