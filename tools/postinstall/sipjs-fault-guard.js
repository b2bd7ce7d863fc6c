// sip.js runs its own timers (transaction Timers B, D, F, H, I, J, K, L, M, N; the 2xx retransmission of an INVITE
// dialog; an Invitation's no-answer, Expires and PRACK timers; registration refreshes; reconnection) and an exception
// thrown inside one of them is thrown out of the timer callback: uncaught, it ends the process. A phone, a `serve` and
// a `run` must outlive any fault of the SIP stack (issue 19 item 1): this patch runs every timer callback of sip.js's
// api/ and core/ through guardTimer (lib/veilphone-fault-guard.js, written here), which hands an exception to the
// handler the application installed (core/sip/sip-stack-guard.ts), with the object that set the timer (a transaction,
// a dialog, a session, a registerer) so the call it belongs to can be ended. With no handler installed it rethrows,
// which is what sip.js did before. Messages reach sip.js from our own transport, which guards that boundary itself.
import fs from 'node:fs';
import path from 'node:path';
import { applyPatch, isMain, libDirectory } from './sipjs-patch.js';

const marker = 'veilphone: guarded timers';

const guardModule = `// ${marker} (tools/postinstall/sipjs-fault-guard.js)
let faultHandler;
/** Install the function that receives an exception thrown from a sip.js timer, with the object that set it. */
export function setTimerFaultHandler(handler) {
    faultHandler = handler;
}
/** The callback of a sip.js timer, run so that what it throws reaches the fault handler instead of the event loop. */
export function guardTimer(owner, callback) {
    return function veilphoneGuardedTimer(...args) {
        try {
            return callback.apply(this, args);
        }
        catch (error) {
            if (faultHandler === undefined) {
                throw error;
            }
            faultHandler(error, owner);
            return undefined;
        }
    };
}
`;

const guardTypes = `// ${marker} (tools/postinstall/sipjs-fault-guard.js)
export type TimerFaultHandler = (error: unknown, owner: unknown) => void;
export declare function setTimerFaultHandler(handler: TimerFaultHandler | undefined): void;
export declare function guardTimer<A extends unknown[], R>(owner: unknown, callback: (...args: A) => R): (...args: A) => R | undefined;
`;

/** `setTimeout(CALLBACK, DELAY)` becomes `setTimeout(guardTimer(this, CALLBACK), DELAY)`; DELAY follows the last ", ". */
function guarded(block) {
  const opened = block.replace(/\b(setTimeout|setInterval)\(/, `$1(guardTimer(this, `);
  const cut = opened.lastIndexOf(', ');
  return `${opened.slice(0, cut)}), ${opened.slice(cut + 2)}`;
}

/** The guard's import, put before the file's first line, with the marker so the patched file says what was done. */
function importGuard(firstLine, depth) {
  return [firstLine, `import { guardTimer } from "${'../'.repeat(depth)}veilphone-fault-guard.js"; // ${marker}\n${firstLine}`];
}

const timers = (file, firstLine, blocks) => ({
  file,
  replace: [importGuard(firstLine, file.split('/').length - 1), ...blocks.map((block) => [block, guarded(block)])],
});

const files = [
  timers('core/transactions/invite-client-transaction.js', 'import { Timers } from "../timers.js";', [
    'this.B = setTimeout(() => this.timerB(), Timers.TIMER_B);',
    'this.D = setTimeout(() => this.timerD(), Timers.TIMER_D);',
    'this.M = setTimeout(() => this.timerM(), Timers.TIMER_M);',
  ]),
  timers('core/transactions/invite-server-transaction.js', 'import { C } from "../messages/methods/constants.js";', [
    'this.L = setTimeout(() => this.timerL(), Timers.TIMER_L);',
    'this.H = setTimeout(() => this.timerH(), Timers.TIMER_H);',
    'this.I = setTimeout(() => this.timerI(), Timers.TIMER_I);',
    `this.progressExtensionTimer = setInterval(() => {
                this.logger.debug(\`Progress extension timer expired for INVITE server transaction \${this.id}.\`);
                if (!this.lastProvisionalResponse) {
                    throw new Error("Last provisional response undefined.");
                }
                this.send(this.lastProvisionalResponse).catch((error) => {
                    this.logTransportError(error, "Failed to send retransmission of provisional response.");
                });
            }, Timers.PROVISIONAL_RESPONSE_INTERVAL);`,
  ]),
  timers('core/transactions/non-invite-client-transaction.js', 'import { Timers } from "../timers.js";', [
    'this.F = setTimeout(() => this.timerF(), Timers.TIMER_F);',
    'this.K = setTimeout(() => this.timerK(), Timers.TIMER_K);',
  ]),
  timers('core/transactions/non-invite-server-transaction.js', 'import { Timers } from "../timers.js";', [
    'this.J = setTimeout(() => this.timerJ(), Timers.TIMER_J);',
  ]),
  timers('core/user-agents/subscribe-user-agent-client.js', 'import { SubscriptionDialog } from "../dialogs/subscription-dialog.js";', [
    'this.N = setTimeout(() => this.timerN(), Timers.TIMER_N);',
  ]),
  timers('core/dialogs/subscription-dialog.js', 'import { NameAddrHeader } from "../../grammar/name-addr-header.js";', [
    'this.N = setTimeout(() => this.timerN(), Timers.TIMER_N);',
    `this.refreshTimer = setTimeout(() => {
                this.refreshTimer = undefined;
                this._subscriptionRefresh = undefined;
                this._subscriptionRefreshLastSet = undefined;
                this.onRefresh(this.refresh());
            }, refresh);`,
  ]),
  // The 2xx retransmission timers arm themselves with `setTimeout(retransmission, timeout)`, four times with the same
  // text: the function they name is made the guarded one instead (below).
  timers('core/dialogs/session-dialog.js', 'import { NameAddrHeader } from "../../grammar/name-addr-header.js";', []),
  timers('api/invitation.js', 'import { Grammar } from "../grammar/grammar.js";', [
    `this.userNoAnswerTimer = setTimeout(() => {
            incomingInviteRequest.reject({ statusCode: 480 });
            this.stateTransition(SessionState.Terminated);
        }, this.userAgent.configuration.noAnswerTimeout ? this.userAgent.configuration.noAnswerTimeout * 1000 : 60000);`,
    `this.expiresTimer = setTimeout(() => {
                if (this.state === SessionState.Initial) {
                    incomingInviteRequest.reject({ statusCode: 487 });
                    this.stateTransition(SessionState.Terminated);
                }
            }, expires);`,
    'const prackWaitTimeoutTimer = setTimeout(prackWaitTimeout, Timers.T1 * 64);',
    'rel1xxRetransmissionTimer = setTimeout(rel1xxRetransmission, (timeout *= 2));',
    'let rel1xxRetransmissionTimer = setTimeout(rel1xxRetransmission, timeout);',
  ]),
  timers('api/registerer.js', 'import { Grammar } from "../grammar/grammar.js";', [
    `this.registrationTimer = setTimeout(() => {
            this.registrationTimer = undefined;
            this.register();
        }, (this.refreshFrequency / 100) * expires * 1000);`,
    `this.registrationExpiredTimer = setTimeout(() => {
            this.logger.warn("Registration expired");
            this.unregistered();
        }, expires * 1000);`,
  ]),
  timers('api/user-agent.js', 'import { Grammar } from "../grammar/grammar.js";', [
    `setTimeout(() => {
            this.reconnect()
                .then(() => {
                this.logger.log(\`Reconnection attempt \${reconnectionAttempt} of \${reconnectionAttempts} - succeeded\`);
            })
                .catch((error) => {
                this.logger.error(error.message);
                this.logger.log(\`Reconnection attempt \${reconnectionAttempt} of \${reconnectionAttempts} - failed\`);
                this.attemptReconnection(++reconnectionAttempt);
            });
        }, reconnectionAttempt === 1 ? 0 : reconnectionDelay * 1000);`,
  ]),
  timers('api/publisher.js', 'import { fromBodyLegacy } from "../core/messages/body.js";', [
    'this.publishRefreshTimer = setTimeout(() => this.refreshRequest(), this.pubRequestExpires * 900);',
  ]),
  timers('api/subscriber.js', 'import { fromBodyLegacy } from "../core/messages/body.js";', [
    `this.retryAfterTimer = setTimeout(() => {
                                        this.subscribe();
                                    }, subscriptionState.params["retry-after"]);`,
  ]),
];

// session-dialog.js: the 2xx retransmission of the initial INVITE and of a re-INVITE.
files.find((f) => f.file === 'core/dialogs/session-dialog.js').replace.push(
  [
    `            const retransmission = () => {
                if (!this.ackWait) {`,
    `            const retransmission = guardTimer(this, () => retransmit2xx()); // ${marker}
            const retransmit2xx = () => {
                if (!this.ackWait) {`,
  ],
  [
    `            const retransmission = () => {
                if (!this.reinviteUserAgentServer) {`,
    `            const retransmission = guardTimer(this, () => retransmitReinvite2xx()); // ${marker}
            const retransmitReinvite2xx = () => {
                if (!this.reinviteUserAgentServer) {`,
  ],
);

export const faultGuardPatch = { marker, what: 'sip.js timers hand what they throw to the application', files };

/** Write lib/veilphone-fault-guard.js and its types, then guard every timer. */
export function applyFaultGuard() {
  for (const [name, text] of [['veilphone-fault-guard.js', guardModule], ['veilphone-fault-guard.d.ts', guardTypes]]) {
    const full = path.join(libDirectory(), name);
    if (!fs.existsSync(full) || fs.readFileSync(full, 'utf8') !== text) fs.writeFileSync(full, text);
  }
  applyPatch(faultGuardPatch);
}

if (isMain(import.meta.url)) applyFaultGuard();
