import { Core } from 'sip.js';
import { AllowedMethods } from 'sip.js/lib/core/user-agent-core/allowed-methods.js';
import type { IncomingRequestMessage } from 'sip.js/lib/core/messages/incoming-request-message.js';
import type { IncomingRequest } from 'sip.js/lib/core/messages/incoming-request.js';

/**
 * UPDATE within a call (RFC 3311), which sip.js 0.21 does not take: its dialogs answer it 501 (its core 405 before
 * that). Some peers refresh a session timer by UPDATE whatever our Allow says (Linphone 5 does, RFC 4028 §7.4 notwithstanding),
 * so without it their calls dropped when their session expired. This lets an INVITE dialog hand an UPDATE to its
 * delegate's `onUpdate` (sip-call.ts answers it); a dialog without one answers 405, as the method is not in our Allow.
 * The UPDATE goes through the dialog's CSeq check like any request in it (RFC 3261 §12.2.2).
 */
export interface UpdateDelegate {
  onUpdate?(request: IncomingRequest): void;
}

let installed = false;

/** Once per process. */
export function installSipJsUpdate(): void {
  if (installed) return;
  installed = true;
  if (!AllowedMethods.includes('UPDATE')) AllowedMethods.push('UPDATE');
  const sessionDialog = Core.SessionDialog.prototype as unknown as {
    receiveRequest(message: IncomingRequestMessage): void;
    sequenceGuard(message: IncomingRequestMessage): boolean;
    delegate?: UpdateDelegate;
    userAgentCore: { replyStateless(message: IncomingRequestMessage, options: { statusCode: number; extraHeaders?: string[] }): void };
  };
  const dialogReceive = (Core.Dialog.prototype as unknown as { receiveRequest(message: IncomingRequestMessage): void }).receiveRequest;
  const receive = sessionDialog.receiveRequest;
  sessionDialog.receiveRequest = function (this: typeof sessionDialog, message: IncomingRequestMessage): void {
    if (message.method !== 'UPDATE') return receive.call(this, message);
    if (!this.sequenceGuard(message)) return; // out of order: answered 500 by the guard (RFC 3261 §12.2.2)
    dialogReceive.call(this, message); // the dialog's remote CSeq moves on
    const onUpdate = this.delegate?.onUpdate;
    // the Allow is rewritten to what we take (transport/uas-screen.ts)
    if (!onUpdate) return this.userAgentCore.replyStateless(message, { statusCode: 405, extraHeaders: ['Allow: INVITE'] });
    onUpdate(new Core.UserAgentServer(Core.NonInviteServerTransaction, this.userAgentCore as never, message));
  };
}
