// sip.js 0.21 ended the process 64·T1 (32 s) after a call it answered when the peer ended the call with BYE without
// ever sending the ACK for the 200 (SIPp's built-in uac through a proxy that dropped its ACK did it, issue 19 item 1).
// The BYE terminated the session and its dialog, but the INVITE server transaction still ran Timer L; when it fired,
// the dialog called Invitation.onAckTimeout, which sent a BYE for the dialog the peer had already ended and then threw
// "Invalid state transition from Terminated to Terminated" out of the timer, uncaught.
// RFC 3261 §13.3.1.4 ends a session whose 2xx was never acknowledged with a BYE; a session that has already ended
// (RFC 3261 §15.1.2: the BYE ended it) has nothing left to end, so the ACK timeout does nothing then.
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
];

export const ackTimeoutAfterByePatch = { marker, what: 'sip.js lets an ACK timeout pass quietly once a BYE has ended the session', files };

if (isMain(import.meta.url)) applyPatch(ackTimeoutAfterByePatch);
