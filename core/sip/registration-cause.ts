import type { RegistrationCause } from '../api/phone-types.js';

/** How a REGISTER ended, as the identity saw it. */
export interface RegisterOutcome {
  /** The final status (a received answer, or the one sip.js made up for a timeout or a transport error). */
  status: number;
  /** sip.js made the answer itself (RFC 3261 §8.1.3.1): 408 for a timeout, 503 for a transport error. */
  local: boolean;
  /** The account has a password, so sip.js answered a challenge with it before this answer came. */
  credentials: boolean;
  /** Sends the transport refused while the REGISTER ran (no route, ICMP port unreachable, a firewall). */
  sendFailures: number;
}

/**
 * Why a REGISTER failed, for the words the UI shows. A 401/407 that reaches the phone although it has a password
 * means sip.js already answered one challenge with it (RFC 3261 §22.2) and the server refused the credentials; 403
 * after credentials is the same refusal (RFC 3261 §21.4.4). A 408 the phone made up means nothing answered — unless
 * every send was refused on the way, which is an address that cannot be reached, as is sip.js's own 503.
 */
export function registrationCause(outcome: RegisterOutcome): RegistrationCause | undefined {
  const { status, local } = outcome;
  if (status < 300) return undefined;
  if (local && status === 503) return 'unreachable';
  if (local && status === 408) return outcome.sendFailures > 0 ? 'unreachable' : 'no-answer';
  if (status === 401 || status === 407) return outcome.credentials ? 'credentials' : 'no-credentials';
  if (status === 403 && outcome.credentials) return 'credentials';
  return 'rejected';
}

/** The same cause in a sentence for logs and error messages. */
export function registrationFailureText(cause: RegistrationCause, status: number): string {
  switch (cause) {
    case 'credentials':
      return `the server refused the user name or password (${status})`;
    case 'no-credentials':
      return `the server asks for a password and the account has none (${status})`;
    case 'no-answer':
      return 'the server did not answer the REGISTER';
    case 'unreachable':
      return 'the server cannot be reached';
    case 'rejected':
      return `REGISTER was answered ${status}`;
    case 'no-binding':
      return `the server answered ${status} but registered nothing (no Contact of this phone's with an expiry, RFC 3261 §10.2.4)`;
  }
}
