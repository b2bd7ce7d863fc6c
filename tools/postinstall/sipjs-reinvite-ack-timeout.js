// sip.js 0.21 leaves a re-INVITE whose 2xx never got its ACK (Timer L, 64·T1) unhandled: the server transaction
// stays the dialog's current re-INVITE forever, so every later re-INVITE from the peer gets 500 and the call
// can never be held or resumed again. RFC 3261 §13.3.1.4: "If the server retransmits the 2xx response for 64*T1
// seconds without receiving an ACK, the dialog is confirmed, but the session SHOULD be terminated. This is
// accomplished with a BYE." This patch does that, on both sides of a call: the callee's session already ends itself
// on an ACK timeout (Invitation.onAckTimeout); the caller's gets the same through Session.bye().
import { applyPatch, isMain } from './sipjs-patch.js';

const marker = 'veilphone: re-INVITE ACK timeout';

const files = [
  {
    file: 'core/dialogs/session-dialog.js',
    replace: [
      [
        // sip.js's own branch for this case is empty; ours goes just before it and leaves it nothing to do
        `                        this.invite2xxTimer = undefined;
                    }
                    if (this.reinviteUserAgentServer) {`,
        `                        this.invite2xxTimer = undefined;
                    }
                    if (this.reinviteUserAgentServer === owner) {
                        // ${marker} (tools/postinstall/sipjs-reinvite-ack-timeout.js): RFC 3261 §13.3.1.4
                        this.reinviteUserAgentServer = undefined;
                        if (this.delegate && this.delegate.onAckTimeout) {
                            this.delegate.onAckTimeout();
                        }
                        else {
                            this.bye();
                        }
                    }
                    if (this.reinviteUserAgentServer) {`,
      ],
      [
        `            const transaction = this.reinviteUserAgentServer.transaction;
            // Once the response has been constructed`,
        `            const transaction = this.reinviteUserAgentServer.transaction;
            const owner = this.reinviteUserAgentServer; // ${marker}: the re-INVITE this timer guards
            // Once the response has been constructed`,
      ],
    ],
  },
  {
    file: 'api/inviter.js',
    replace: [
      [
        `        session.delegate = {
            onAck: (ackRequest) => this.onAckRequest(ackRequest),
            onBye: (byeRequest) => this.onByeRequest(byeRequest),`,
        `        session.delegate = {
            onAck: (ackRequest) => this.onAckRequest(ackRequest),
            onAckTimeout: () => void this.bye().catch(() => undefined), // ${marker}: RFC 3261 §13.3.1.4
            onBye: (byeRequest) => this.onByeRequest(byeRequest),`,
      ],
    ],
  },
];

export const reinviteAckTimeoutPatch = { marker, what: 'sip.js ends a call whose re-INVITE 2xx is never acknowledged', files };

if (isMain(import.meta.url)) applyPatch(reinviteAckTimeoutPatch);
