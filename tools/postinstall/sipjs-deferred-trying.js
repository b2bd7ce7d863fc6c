// sip.js 0.21 answers every new INVITE with 100 Trying before its application has seen it (its own comment there says
// the 100 should be configurable and is only required if the TU will not respond in 200 ms). RFC 3261 §17.2.1: the
// server transaction MUST send a 100 "unless it knows that the TU will generate a provisional or final response within 200 ms". The phone
// rings (180), answers, forwards or refuses within a millisecond or two, so the 100 was one more message to build,
// trace and send before the 180 every caller waits for (issue 23: in alternated runs, the callee's in-process INVITE →
// 180 went from 1.06-1.13 ms to 0.91-0.93 ms without it). Now the 100 goes out only if nothing else has 100 ms after
// the INVITE came in: well within the 200 ms, and long before the previous hop retransmits the INVITE (Timer A, T1 =
// 500 ms). An application's own progress({ statusCode: 100 }) still sends it at once. A fault in the timer is reported
// against the INVITE's transaction, so the call it belongs to is ended. Runs after sipjs-fault-guard.js, whose
// guardTimer import user-agent.js then has.
import { applyPatch, isMain } from './sipjs-patch.js';

const marker = 'veilphone: 100 Trying only when the TU is slow';

const files = [
  {
    file: 'api/user-agent.js',
    replace: [
      [
        `                // FIXME: Ported - 100 Trying send should be configurable.
                // Only required if TU will not respond in 200ms.
                // https://tools.ietf.org/html/rfc3261#section-17.2.1
                incomingInviteRequest.trying();`,
        `                // ${marker} (tools/postinstall/sipjs-deferred-trying.js):
                // RFC 3261 §17.2.1, a 100 only if no other response was sent within 100 ms
                const veilphoneTrying = setTimeout(guardTimer(incomingInviteRequest.transaction, () => {
                    if (incomingInviteRequest.tryingable && !incomingInviteRequest.transaction.lastProvisionalResponse) {
                        incomingInviteRequest.trying();
                    }
                }), 100);
                veilphoneTrying.unref?.();`,
      ],
    ],
  },
];

export const deferredTryingPatch = { marker, what: 'sip.js sends 100 Trying only when nothing else was sent within 100 ms', files };

if (isMain(import.meta.url)) applyPatch(deferredTryingPatch);
