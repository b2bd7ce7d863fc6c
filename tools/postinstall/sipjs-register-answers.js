// sip.js 0.21's Registerer trusted the registrar's answers to a REGISTER. Played against a registrar on a bare socket
// (core/sip/sip-identity-register-answers.test.ts), a registrar that answered badly made the phone either hang or flood:
// - a 2xx with no Contact, none of ours, or ours without an expiry was dropped without a word to the REGISTER's sender:
//   the phone's Register waited for ever ("registering");
// - a 2xx granting our Contact no `expires` parameter read it as NaN, `expires=0` as 0, and 4,000,000 s overflowed Node's
//   timer: each scheduled its refresh at once, about 500 REGISTERs a second;
// - a 423 (Interval Too Brief) was sent again at once with the Min-Expires it named, whatever that was, and without the
//   sender's delegate: `Min-Expires: 1` made about 3,000 REGISTERs a second, and even a good 423 left the Register
//   waiting for ever.
// Now: a 2xx that registers nothing (RFC 3261 §10.2.4: the UA finds its own Contact and its interval, the `expires`
// parameter or else the Expires header, delta-seconds §25.1) is reported to the sender's `onReject` with the 2xx and
// ends the REGISTER; a binding's timers are kept within Node's (24.8 days); a 423 is answered once (§10.2.8), only with
// a longer interval than asked and at most a day, the retry's answer reaching the same delegate; any other 423 is a
// refusal like the rest.
import { applyPatch, isMain } from './sipjs-patch.js';

const marker = 'veilphone: answers that register nothing';

const reportUnbound = `if (options.requestDelegate && options.requestDelegate.onReject) {
                        options.requestDelegate.onReject(response);
                    }`;

const files = [
  {
    file: 'api/registerer.js',
    replace: [
      [
        `                if (!contacts) {
                    this.logger.error("No Contact header in response to REGISTER, dropping response.");
                    this.unregistered();
                    return;
                }`,
        `                // ${marker} (tools/postinstall/sipjs-register-answers.js): the sender hears of each, and the REGISTER ends
                if (!contacts) {
                    this.logger.error("No Contact header in response to REGISTER, dropping response.");
                    this.unregistered();
                    ${reportUnbound}
                    this.waitingToggle(false);
                    return;
                }`,
      ],
      [
        `                if (contact === undefined) {
                    this.logger.error("No Contact header pointing to us, dropping response");
                    this.unregistered();
                    this.waitingToggle(false);
                    return;
                }
                // The contact must have an expires.
                if (expires === undefined) {
                    this.logger.error("Contact pointing to us is missing expires parameter, dropping response");
                    this.unregistered();
                    this.waitingToggle(false);
                    return;
                }`,
        `                if (contact === undefined) {
                    this.logger.error("No Contact header pointing to us, dropping response");
                    this.unregistered();
                    ${reportUnbound}
                    this.waitingToggle(false);
                    return;
                }
                // The contact must have an expires: its parameter, else the Expires header (RFC 3261 §10.2.4), digits
                // (§25.1 delta-seconds); 0 is no binding
                const deltaSeconds = (value) => (typeof value === "string" && /^\\s*\\d+\\s*$/.test(value) ? Number(value) : undefined);
                expires = deltaSeconds(contact.getParam("expires"));
                if (expires === undefined) {
                    expires = deltaSeconds(response.message.getHeader("expires"));
                }
                if (expires === undefined || expires === 0) {
                    this.logger.error("Contact pointing to us is missing expires parameter, dropping response");
                    this.unregistered();
                    ${reportUnbound}
                    this.waitingToggle(false);
                    return;
                }`,
      ],
      [
        `                    if (!response.message.hasHeader("min-expires")) {
                        // This response MUST contain a Min-Expires header field
                        this.logger.error("423 response received for REGISTER without Min-Expires, dropping response");
                        this.unregistered();
                        this.waitingToggle(false);
                        return;
                    }
                    // Increase our registration interval to the suggested minimum
                    this.expires = Number(response.message.getHeader("min-expires"));
                    // Attempt the registration again immediately
                    this.waitingToggle(false);
                    this.register();
                    return;
                }`,
        `                    // once, with a longer interval than asked and at most a day; the retry's answer goes to the
                    // same delegate. Any other 423 is a refusal like the rest (below).
                    const minExpires = /^\\s*\\d+\\s*$/.test(response.message.getHeader("min-expires") || "") ? Number(response.message.getHeader("min-expires")) : undefined;
                    if (minExpires !== undefined && minExpires > this.expires && minExpires <= 86400 && !options.veilphoneAfter423) {
                        this.expires = minExpires;
                        this.waitingToggle(false);
                        try {
                            this.register(Object.assign({}, options, { veilphoneAfter423: true })).catch((error) => this.logger.error(error.message));
                        }
                        catch (error) {
                            // disposed meanwhile: register() throws at once
                            this.logger.error(error.message);
                        }
                        return;
                    }
                    this.logger.error("423 response received for REGISTER without a longer Min-Expires (at most a day), or again");
                }`,
      ],
      [
        `    registered(expires) {
        this.clearTimers();`,
        `    registered(expires) {
        this.clearTimers();
        expires = Math.min(expires, 2147483); // Node's timers end at 2^31-1 ms: beyond, they fire at once`,
      ],
    ],
  },
];

export const registerAnswersPatch = {
  marker,
  what: "sip.js's REGISTER hears of a 2xx that registers nothing, keeps its timers within Node's, and answers a 423 once (RFC 3261 §10.2.4, §10.2.8)",
  files,
};

if (isMain(import.meta.url)) applyPatch(registerAnswersPatch);
