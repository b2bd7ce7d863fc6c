// sip.js 0.21 answers a CANCEL with a To tag of its own making, not the one of its responses to the INVITE the CANCEL
// matched. RFC 3261 §9.2: "The To tag of the response to the CANCEL and the To tag in the response to the original
// request SHOULD be the same." A CANCEL that crosses our 200 changes nothing (§9.2), but a caller that takes the To of
// the latest response (SIPp's [last_To:], issue 19 item 3) acknowledged our 200 with the CANCEL's tag: the ACK matched
// no dialog, the 200 went on being resent, and 64·T1 later the phone tore the call down with a BYE the caller answered
// 481 — the caller thought the call was up and the phone did not. The 200 to a CANCEL now carries the tag of the
// transaction it matched.
import { applyPatch, isMain } from './sipjs-patch.js';

const marker = 'veilphone: CANCEL answered with the INVITE To tag';

const files = [
  {
    file: 'core/user-agent-core/user-agent-core.js',
    replace: [
      [
        `                // https://tools.ietf.org/html/rfc3261#section-9.2
                this.replyStateless(message, { statusCode: 200 });`,
        `                // https://tools.ietf.org/html/rfc3261#section-9.2
                // ${marker} (tools/postinstall/sipjs-cancel-to-tag.js): RFC 3261 §9.2, the same To tag
                this.replyStateless(message, { statusCode: 200, toTag: uas.toTag });`,
      ],
    ],
  },
];

export const cancelToTagPatch = { marker, what: 'sip.js answers a CANCEL with the To tag of the INVITE it matched', files };

if (isMain(import.meta.url)) applyPatch(cancelToTagPatch);
