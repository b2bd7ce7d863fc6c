// sip.js 0.21 draws every identifier it puts on the wire from Math.random: From and To tags, Via branches (only
// 10^7 of them, RFC 3261 §8.1.1.7 asks for unique ones), digest cnonces, the contact user and the instance id.
// V8's Math.random (xorshift128+) is one stream per process and can be recovered from a few dozen outputs, so a
// callee who saw the tags and branches of one anonymous call could predict those of the phone's other calls and
// link them to one device (RFC 3323 §4.1 asks for unlinkable identifiers). This patch draws them from the CSPRNG
// (Web Crypto, global in Node and browsers) instead. Runs on `npm install`; fails loudly if sip.js changed shape.
import { applyPatch, isMain } from './sipjs-patch.js';

const marker = 'veilphone: CSPRNG';

/** sip.js's token (`size` characters of `base`), each character from 32 bits of the CSPRNG (unbiased for base 32). */
const tokenBody = `    // ${marker} (tools/postinstall/sipjs-csprng.js)
    const values = globalThis.crypto.getRandomValues(new Uint32Array(size));
    let token = "";
    for (let i = 0; i < size; i++) {
        const r = Math.floor((values[i] / 4294967296) * base);
        token += r.toString(base);
    }
    return token;`;

const branch = `"z9hG4bK" + globalThis.crypto.randomUUID().replace(/-/g, "") /* ${marker} */`;

/** Each file of sip.js's lib/ and the exact texts replaced in it. */
const files = [
  {
    file: 'core/messages/utils.js',
    replace: [
      [
        `    let token = "";
    for (let i = 0; i < size; i++) {
        const r = Math.floor(Math.random() * base);
        token += r.toString(base);
    }
    return token;`,
        tokenBody,
      ],
    ],
  },
  { file: 'core/transactions/client-transaction.js', replace: [['return "z9hG4bK" + Math.floor(Math.random() * 10000000);', `return ${branch};`]] },
  { file: 'core/transactions/invite-client-transaction.js', replace: [['const id = "z9hG4bK" + Math.floor(Math.random() * 10000000);', `const id = ${branch};`]] },
  {
    file: 'api/user-agent.js',
    replace: [
      [
        `        const UUID = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, (c) => {
            const r = Math.floor(Math.random() * 16);
            const v = c === "x" ? r : (r % 4) + 8;
            return v.toString(16);
        });
        return UUID;`,
        `        return globalThis.crypto.randomUUID(); // ${marker} (tools/postinstall/sipjs-csprng.js)`,
      ],
    ],
  },
];

export const csprngPatch = { marker, what: 'sip.js draws its identifiers from the CSPRNG', files };

if (isMain(import.meta.url)) applyPatch(csprngPatch);
