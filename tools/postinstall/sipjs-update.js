// sip.js 0.21 takes no UPDATE (RFC 3311): its core answers 405, its INVITE dialogs 501. Linphone 5 refreshes a session
// timer by UPDATE whatever our Allow says (RFC 4028 §7.4 would have it use re-INVITE), so its calls dropped when their
// session expired. An UPDATE in an INVITE dialog now goes, after the dialog's CSeq check (RFC 3261 §12.2.2), to the
// dialog delegate's `onUpdate` (core/sip/sip-call.ts answers it: a refresh, or 488 for an offer); a 2xx to it makes its
// Contact the dialog's remote target, UPDATE being a target refresh request (RFC 3311 §5.2); a dialog without
// `onUpdate` answers 405. The transport still refuses UPDATE outside a dialog (core/sip/transport/uas-screen.ts).
import { applyPatch, isMain } from './sipjs-patch.js';

const marker = 'veilphone: UPDATE taken in an INVITE dialog';

const files = [
  {
    file: 'core/user-agent-core/allowed-methods.js',
    replace: [
      [
        `    C.SUBSCRIBE
];`,
        `    C.SUBSCRIBE,
    C.UPDATE // ${marker} (tools/postinstall/sipjs-update.js)
];`,
      ],
    ],
  },
  {
    file: 'core/dialogs/session-dialog.js',
    replace: [
      [
        `import { InfoUserAgentServer } from "../user-agents/info-user-agent-server.js";`,
        `import { InfoUserAgentServer } from "../user-agents/info-user-agent-server.js";
import { UserAgentServer } from "../user-agents/user-agent-server.js";
import { NonInviteServerTransaction } from "../transactions/non-invite-server-transaction.js";`,
      ],
      [
        `            default:
                {
                    this.logger.log(\`INVITE dialog \${this.id} received unimplemented \${message.method} request\`);`,
        `            case C.UPDATE:
                // ${marker} (tools/postinstall/sipjs-update.js): RFC 3311
                {
                    if (!this.delegate || !this.delegate.onUpdate) {
                        this.core.replyStateless(message, { statusCode: 405, extraHeaders: ["Allow: INVITE"] });
                        break;
                    }
                    const uas = new UserAgentServer(NonInviteServerTransaction, this.core, message);
                    const accept = uas.accept.bind(uas);
                    uas.accept = (options) => {
                        const response = accept(options);
                        // RFC 3311 §5.2: a target refresh request; its 2xx moves the remote target
                        const contact = message.parseHeader("contact");
                        if (contact instanceof NameAddrHeader) this.dialogState.remoteTarget = contact.uri;
                        return response;
                    };
                    try {
                        this.delegate.onUpdate(uas);
                    }
                    catch (error) {
                        // answered all the same (a transaction left in Trying would swallow the retransmissions)
                        if (uas.acceptable) uas.reject({ statusCode: 500 });
                        throw error;
                    }
                }
                break;
            default:
                {
                    this.logger.log(\`INVITE dialog \${this.id} received unimplemented \${message.method} request\`);`,
      ],
    ],
  },
];

export const updatePatch = { marker, what: 'sip.js takes UPDATE in an INVITE dialog (RFC 3311)', files };

if (isMain(import.meta.url)) applyPatch(updatePatch);
