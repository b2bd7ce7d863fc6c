// sip.js 0.21 drops every non-100 provisional response to an INVITE that carries no Contact. RFC 3261 §12.1.1 says a
// dialog-creating response MUST carry one, but Linphone (liblinphone 5.1, `--real-early-media` without 100rel) sends
// its 180 and its 183 with SDP without it: calling such a peer, the phone showed neither ringing nor early media until
// the 200. Like Linphone and baresip themselves, sip.js now takes such a 18x: the call rings and its SDP answer plays,
// in an early dialog that has no remote target (nothing can be sent in it: a request there throws instead of going
// to a made-up address; a reliable 18x without Contact is still dropped, its PRACK having nowhere to go). The remote
// target comes from the 2xx: sip.js kept the early dialog's target when a 2xx confirmed it, and now takes the 2xx's
// Contact (RFC 3261 §12.1.2 / §12.2.1.2, §13.2.2.4), so the ACK and the BYE go where the 2xx says. A 2xx without
// Contact is still dropped.
import { applyPatch, isMain } from './sipjs-patch.js';

const marker = 'veilphone: provisional response without Contact';

const files = [
  // dialog.js first: the run-time check (core/sip/sipjs-patches.ts) looks at invite-user-agent-client.js, patched last
  {
    file: 'core/dialogs/dialog.js',
    replace: [
      [
        `        const contact = incomingResponseMessage.parseHeader("contact");
        if (!contact) {
            // TODO: Review to make sure this will never happen
            throw new Error("Contact undefined.");
        }
        if (!(contact instanceof NameAddrHeader)) {
            throw new Error("Contact not instance of NameAddrHeader.");
        }
        const remoteTarget = contact.uri;`,
        `        // ${marker}: an early dialog without a remote target (the 2xx brings it)
        const contact = incomingResponseMessage.parseHeader("contact");
        if (!contact && !(incomingResponseMessage.statusCode < 200)) {
            throw new Error("Contact undefined.");
        }
        if (contact && !(contact instanceof NameAddrHeader)) {
            throw new Error("Contact not instance of NameAddrHeader.");
        }
        const remoteTarget = contact ? contact.uri : undefined;`,
      ],
      [
        `        const ruri = this.remoteTarget;
        const routeSet = this.routeSet;`,
        `        const ruri = this.remoteTarget;
        if (!ruri) {
            throw new Error("No remote target in this early dialog: its provisional response had no Contact (RFC 3261 §12.1.1).");
        }
        const routeSet = this.routeSet;`,
      ],
    ],
  },
  {
    file: 'core/user-agents/invite-user-agent-client.js',
    replace: [
      [
        `                    const contact = message.parseHeader("contact");
                    if (!contact) {
                        this.logger.error("Non-100 1xx INVITE response received without a Contact header field, dropping.");
                        return;
                    }`,
        `                    // ${marker} (tools/postinstall/sipjs-contactless-provisional.js): taken unless reliable
                    const contact = message.parseHeader("contact");
                    const contactlessReliable = !contact && /(^|,)\\s*100rel\\s*(,|$)/i.test(message.getHeader("require") || "");
                    if (contactlessReliable) {
                        this.logger.error("Reliable 1xx INVITE response received without a Contact header field (its PRACK has no target), dropping.");
                        return;
                    }
                    if (!contact) {
                        this.logger.warn("Non-100 1xx INVITE response received without a Contact header field: its early dialog has no remote target until the 2xx names one.");
                    }`,
      ],
      [
        `                        earlyDialog = new SessionDialog(transaction, this.core, dialogState);
                        this.earlyDialogs.set(earlyDialog.id, earlyDialog);
                    }`,
        `                        earlyDialog = new SessionDialog(transaction, this.core, dialogState);
                        this.earlyDialogs.set(earlyDialog.id, earlyDialog);
                    }
                    else if (!earlyDialog.dialogState.remoteTarget && dialogState.remoteTarget) {
                        earlyDialog.dialogState.remoteTarget = dialogState.remoteTarget; // the first 18x of the dialog had no Contact
                    }`,
      ],
      [
        `                        dialog.confirm();
                        dialog.recomputeRouteSet(message);`,
        `                        dialog.confirm();
                        dialog.recomputeRouteSet(message);
                        dialog.dialogState.remoteTarget = dialogState.remoteTarget; // RFC 3261 §12.2.1.2: the 2xx's Contact`,
      ],
    ],
  },
];

export const contactlessProvisionalPatch = {
  marker,
  what: 'sip.js takes a 18x without Contact (ringing, early media) and the remote target from the 2xx',
  files,
};

if (isMain(import.meta.url)) applyPatch(contactlessProvisionalPatch);
