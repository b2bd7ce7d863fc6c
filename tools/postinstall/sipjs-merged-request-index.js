// sip.js 0.21 detects merged requests (RFC 3261 §8.2.2.2: the same From tag, Call-ID and CSeq on a new branch gets
// 482) by copying every server transaction the user agent holds into an array and comparing each, for every request
// outside a dialog. An answered INVITE's transaction stays for 64·T1 (RFC 6026 §7.1, 32 s), so a callee that had 50
// calls in the last 32 s compared 1,600 of them per INVITE (a tenth of the CPU-profile samples in its INVITE → 180
// window), and at 300 calls/s nearly 10,000 per INVITE: quadratic in the rate (issue 23). The user agent's map of server transactions now keeps an index by those three
// fields, updated as transactions come and go, and the check is one lookup.
import { applyPatch, isMain } from './sipjs-patch.js';

const marker = 'veilphone: merged requests found by index';

const serverMap = `
// ${marker} (tools/postinstall/sipjs-merged-request-index.js)
/** The user agent servers by transaction id, with how many hold each (Call-ID, From tag, CSeq): RFC 3261 §8.2.2.2. */
export class VeilphoneUserAgentServers extends Map {
    constructor() {
        super();
        this.requests = new Map();
    }
    static requestKey(request) {
        return \`\${request.callId}\\u0000\${request.fromTag}\\u0000\${request.cseq}\`;
    }
    set(id, uas) {
        this.delete(id);
        super.set(id, uas);
        const key = VeilphoneUserAgentServers.requestKey(uas.transaction.request);
        this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
        return this;
    }
    delete(id) {
        const uas = super.get(id);
        if (!super.delete(id)) {
            return false;
        }
        const key = VeilphoneUserAgentServers.requestKey(uas.transaction.request);
        const left = (this.requests.get(key) ?? 1) - 1;
        if (left > 0) {
            this.requests.set(key, left);
        }
        else {
            this.requests.delete(key);
        }
        return true;
    }
    clear() {
        super.clear();
        this.requests.clear();
    }
    /** Whether a server transaction holds a request with this one's Call-ID, From tag and CSeq. */
    holdsLike(message) {
        return this.requests.has(VeilphoneUserAgentServers.requestKey(message));
    }
}
`;

const files = [
  {
    file: 'core/user-agent-core/user-agent-core.js',
    replace: [
      [`import { AllowedMethods } from "./allowed-methods.js";\n`, `import { AllowedMethods } from "./allowed-methods.js";\n${serverMap}`],
      [
        `        /** UASs. */
        this.userAgentServers = new Map();`,
        `        /** UASs. */
        this.userAgentServers = new VeilphoneUserAgentServers(); // ${marker}`,
      ],
      [
        `                const mergedRequest = Array.from(this.userAgentServers.values()).some((uas) => uas.transaction.request.fromTag === message.fromTag &&
                    uas.transaction.request.callId === message.callId &&
                    uas.transaction.request.cseq === message.cseq);`,
        `                const mergedRequest = this.userAgentServers.holdsLike(message); // ${marker}`,
      ],
    ],
  },
];

export const mergedRequestIndexPatch = { marker, what: 'sip.js finds merged requests by an index, not by comparing every server transaction', files };

if (isMain(import.meta.url)) applyPatch(mergedRequestIndexPatch);
