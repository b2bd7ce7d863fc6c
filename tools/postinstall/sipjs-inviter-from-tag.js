// sip.js 0.21's Inviter always draws a new From tag and ignores the `params.fromTag` its options declare. An INVITE
// sent again after a 422 (RFC 4028 §7.3) or a 3xx (RFC 3261 §8.1.3.4) is a new transaction of the same call, and RFC
// 3261 §8.1.3.5 has it keep "the same value of the Call-ID, To, and From of the previous request" (RFC 4028 erratum
// 1681 says so for the 422): with a new tag, an element that tracks a call by Call-ID and From tag (a B2BUA, a
// dialog-stateful proxy, the callee's call log) saw a second call. The Inviter now takes the tag it is given
// (core/sip/sip-identity.ts passes the previous INVITE's), and draws one (from the CSPRNG) only when given none.
import { applyPatch, isMain } from './sipjs-patch.js';

const marker = 'veilphone: the From tag of an INVITE sent again';

const files = [
  {
    file: 'api/inviter.js',
    replace: [
      [
        `        // From tag
        this.fromTag = newTag();`,
        `        // From tag
        // ${marker} (tools/postinstall/sipjs-inviter-from-tag.js): RFC 3261 §8.1.3.5
        this.fromTag = (options.params && options.params.fromTag) || newTag();`,
      ],
    ],
  },
];

export const inviterFromTagPatch = { marker, what: 'sip.js keeps the From tag of an INVITE sent again (RFC 3261 §8.1.3.5)', files };

if (isMain(import.meta.url)) applyPatch(inviterFromTagPatch);
