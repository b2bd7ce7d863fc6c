// sip.js 0.21 dropped a 2xx to an INVITE that had no To tag or no Contact (RFC 3261 §12.1.1: no dialog can be made
// from it, no ACK or BYE has anywhere to go) without a word to the Inviter. Its INVITE transaction was over (a 2xx
// ends it), so no Timer B ever ended the call: the phone showed "Ringing…" for good, Hang up sent a CANCEL that could
// do nothing, and the account placed no other call until the phone was restarted (helper 74, a relay that deleted the
// Contact). Such a 2xx now reaches the Inviter's onReject, ending the session: the call fails with the reason that the
// answer was unusable (core/sip/sip-call.ts reports it as 502). Its retransmissions find the session over and are
// dropped as before; the UAS, never acknowledged, gives up by itself (§13.3.1.4).
import { applyPatch, isMain } from './sipjs-patch.js';

const marker = 'veilphone: a 2xx that makes no dialog';

const tell = `if (this.delegate && this.delegate.onReject) {
                            this.delegate.onReject({ message });
                        }`;

const files = [
  {
    file: 'core/user-agents/invite-user-agent-client.js',
    replace: [
      [
        `                    if (!message.toTag) {
                        this.logger.error("2xx INVITE response received without a to tag, dropping.");
                        return;
                    }`,
        `                    // ${marker} (tools/postinstall/sipjs-unusable-2xx.js): the Inviter hears of it, and the call ends
                    if (!message.toTag) {
                        this.logger.error("2xx INVITE response received without a to tag, dropping.");
                        ${tell}
                        return;
                    }`,
      ],
      [
        `                    if (!contact) {
                        this.logger.error("2xx INVITE response received without a Contact header field, dropping.");
                        return;
                    }`,
        `                    if (!contact) {
                        this.logger.error("2xx INVITE response received without a Contact header field, dropping.");
                        ${tell}
                        return;
                    }`,
      ],
    ],
  },
];

export const unusable2xxPatch = { marker, what: 'a 2xx to INVITE without To tag or Contact ends the call instead of leaving it ringing (RFC 3261 §12.1.1)', files };

if (isMain(import.meta.url)) applyPatch(unusable2xxPatch);
