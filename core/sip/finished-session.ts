import type { Session } from 'sip.js';

/**
 * sip.js's INVITE transaction outlives its call: 64·T1 (32 s) in the "Accepted" state (RFC 6026 §7.1, Timers L and M),
 * to absorb retransmitted INVITEs and ACK every retransmitted 2xx. That is right; what is not is how much it keeps for
 * it. Its user-agent client or server points at the session through its delegate, and each dialog through its own, so
 * every ended call stayed whole for those 32 s: the Inviter or Invitation, its media handler, our SipCall and the phone's
 * call with their listeners. At 50 calls/s that is 1,600 ended calls, about 48 MB of heap (measured: 95 MB → 47 MB
 * with the two timers shortened, 2026-12-06).
 *
 * Once the session has ended, these references are cut. What the transactions keep is what RFC 3261 asks of them:
 * the INVITE and the ACK sent for each 2xx (§13.2.2.4: the ACK is sent again for every retransmission of that 2xx;
 * sip.js's INVITE client transaction does it from its own cache, by To tag, without the delegate). A user-agent server
 * also lets go of its dialog and of the last responses it sent, which nothing resends any more (the dialog's own ACK
 * watch is stopped by a sip.js patch, tools/postinstall/sipjs-ack-timeout-after-bye.js).
 */
export function letGoOfFinishedSession(session: Session): void {
  const view = session as unknown as FinishedSessionView;
  const client = view.outgoingInviteRequest;
  if (client) {
    // §13.2.2.4: a 2xx from another fork, arriving after the call ended, opens a dialog nobody wants: ACK it, then BYE.
    client.delegate = { onAccept: ackAndBye };
    for (const dialog of [...(client.earlyDialogs?.values() ?? []), ...(client.confirmedDialogs?.values() ?? [])]) dialog.delegate = finishedDialog;
    // A confirmed dialog the call's end closed is at most looked up by id now, to tell a 2xx of its own from a new
    // fork's (its retransmissions are answered with the cached ACK before they get here). A placeholder answers that
    // lookup; the closed dialog (its state, route set and URIs) goes. A fork's dialog still open stays as it is.
    for (const [id, dialog] of client.confirmedDialogs ?? []) if (dialog.signalingState === 'Closed') client.confirmedDialogs!.set(id, closedDialog);
  }
  const server = view.incomingInviteRequest;
  if (server) {
    server.delegate = undefined;
    for (const dialog of [server.earlyDialog, server.confirmedDialog]) if (dialog) dialog.delegate = finishedDialog;
    // An answered call's dialog was disposed with its session; the user-agent server answers nothing more from it. (An
    // early dialog, of a call that rang and was not answered, is the server's own to dispose when its transaction ends.)
    server.confirmedDialog = undefined;
    const transaction = server.transaction;
    // §17.2.1: the last provisional response is resent only while "Proceeding". RFC 6026 §7.1: in "Accepted" the
    // INVITE's retransmissions are absorbed, and the 2xx is resent only by the dialog until its ACK (now disposed).
    if (transaction.state !== 'Proceeding') transaction.lastProvisionalResponse = undefined;
    if (transaction.state === 'Accepted') transaction.lastFinalResponse = undefined;
  }
  const dialog = view._dialog;
  if (dialog) dialog.delegate = finishedDialog;
}

/**
 * An ended call's dialog. Without a delegate sip.js would send a BYE when its 2xx's ACK wait runs out (§13.3.1.4), for a
 * call already ended (issue 19 item 1); other requests get sip.js's own answers, should the dialog still be reachable.
 */
const finishedDialog = { onAckTimeout: (): void => undefined };

/** What an ended call's user-agent client keeps in place of a confirmed dialog that is closed. */
const closedDialog: DelegatingDialog = { delegate: finishedDialog, signalingState: 'Closed' };

function ackAndBye(response: { ack(): unknown; session: { bye(): unknown } }): void {
  try {
    response.ack();
    response.session.bye();
  } catch {
    // a transport that is already closed: the far end's 2xx retransmissions stop by themselves after 64·T1
  }
}

/** The fields of sip.js's objects (private in its types) that hold a session after its end. */
interface FinishedSessionView {
  /** Inviter: its INVITE's user-agent client. */
  outgoingInviteRequest?: {
    delegate?: unknown;
    earlyDialogs?: Map<string, DelegatingDialog>;
    confirmedDialogs?: Map<string, DelegatingDialog>;
  };
  /** Invitation: its INVITE's user-agent server. */
  incomingInviteRequest?: {
    delegate?: unknown;
    earlyDialog?: DelegatingDialog;
    confirmedDialog?: DelegatingDialog;
    transaction: { state: string; lastProvisionalResponse?: unknown; lastFinalResponse?: unknown };
  };
  _dialog?: DelegatingDialog;
}

interface DelegatingDialog {
  delegate?: unknown;
  /** sip.js's SignalingState: "Closed" once the dialog is disposed. */
  signalingState?: string;
}
