// sip.js 0.21 rewrites a header name to its canonical case ("call-id" → "Call-ID") with toLowerCase, a regular
// expression, split and a loop, each time a header is added to a message it parses or builds: 4 % of the CPU-profile
// samples in the callee's INVITE → 180 window (issue 23). The same few dozen names come again and again, so each is worked out once and kept.
// Names come off the wire, so the memo is bounded (at most 512 names of at most 64 characters) and keeps flat copies
// (of the name and of its canonical form: a name cut from a message would otherwise keep the whole message alive).
import { applyPatch, isMain } from './sipjs-patch.js';

const marker = 'veilphone: header names worked out once';

const files = [
  {
    file: 'core/messages/utils.js',
    replace: [
      [
        `export function headerize(str) {`,
        `// ${marker} (tools/postinstall/sipjs-headerize-cache.js)
const veilphoneHeaderNames = new Map();
export function headerize(str) {
    let known = veilphoneHeaderNames.get(str);
    if (known === undefined) {
        known = headerizeOnce(str);
        if (veilphoneHeaderNames.size < 512 && str.length <= 64) {
            known = JSON.parse(JSON.stringify(known));
            veilphoneHeaderNames.set(JSON.parse(JSON.stringify(str)), known);
        }
    }
    return known;
}
function headerizeOnce(str) {`,
      ],
    ],
  },
];

export const headerizeCachePatch = { marker, what: 'sip.js works out each header name once', files };

if (isMain(import.meta.url)) applyPatch(headerizeCachePatch);
