import type { CallLogEntry } from './call-log-types.js';
import { showInvisibles } from './invisible-characters.js';

/**
 * What dials the other party of a logged call back (a redial, a new contact's number): its user part as it came, which
 * the dial rules read as a number, unless that carries an invisible character. sip.js decodes the user part, so
 * `sip:%E2%80%AEgpj.exe@x` gives a user part with a right-to-left override in it, which would turn the text around in
 * the dialer, and a zero-width space would hide in it; then the URI, percent-encoded ASCII that reaches the same party.
 */
export function callbackTarget(call: Pick<CallLogEntry, 'remoteUser' | 'remoteUri'>): string {
  const user = call.remoteUser;
  return user !== undefined && user !== '' && showInvisibles(user) === user ? user : call.remoteUri;
}
