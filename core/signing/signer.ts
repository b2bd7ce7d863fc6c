import type { SignatureKind } from '../api/signature-types.js';
import type { SipMessage } from '../sip/message/index.js';
import { recordRouteCovered, routeSetCoveredFromRecordRoute, viaCovered } from './covered-items.js';
import type { HeaderView } from './header-view.js';
import { editElement, setAddressHeaderParam, setAddressUriParams, setViaParam } from './header-elements.js';
import { formatNameAddr, parseNameAddr, withoutParam } from '../sip/message/index.js';
import { computeMac } from './mac.js';
import { encodeSignature, headerSignatureParam, macAlgorithm, routeSetSignatureParam, sealedKeyParam, sortedFlags, type CoverFlag } from './signature-param.js';

/** The key a signature is made with: its id goes into the signature (¶[0060]). */
export interface SigningKey {
  id: string;
  secret: Uint8Array;
}

function signature(kind: SignatureKind, key: SigningKey, flags: readonly CoverFlag[], items: Parameters<typeof computeMac>[2]): string {
  const header = { kind, keyId: key.id, algorithm: macAlgorithm, flags: sortedFlags(flags), mac: '' };
  header.mac = computeMac(key.secret, header, items);
  return encodeSignature(header);
}

/** Claim 9's extras every Via signature of this code covers by default (the `r` flag is added by the caller). */
export const defaultViaFlags: CoverFlag[] = ['c', 'f', 'p', 's', 't'];
export const defaultRecordRouteFlags: CoverFlag[] = ['c'];
export const defaultRouteSetFlags: CoverFlag[] = ['c', 'g'];

/**
 * Fig. 10: sign the Via headers below the signer's own (the topmost, already added) and put the signature into
 * its Via as a header parameter (steps 904-914). No signature when nothing is below (step 906).
 * @param peer the next hop the request goes to (claim 9), needed when `flags` has `p`
 * @param view the message's headers, read before any signature went in (covered-items.ts), when the signer has them
 */
export function signVia(message: SipMessage, key: SigningKey, flags: readonly CoverFlag[], peer?: string, view?: HeaderView): string | undefined {
  if ((view?.all('via') ?? message.getAll('via')).length < 2) return undefined;
  const value = signature('via', key, flags, viaCovered(message, 0, flags, peer, view));
  setViaParam(message, 0, headerSignatureParam, value);
  return value;
}

/** Fig. 12 steps 950-954: sign Record-Route element `index` (the signer's) and those below it; header parameter. */
export function signRecordRoute(message: SipMessage, key: SigningKey, index = 0, flags: readonly CoverFlag[] = defaultRecordRouteFlags, view?: HeaderView): string {
  const value = signature('record-route', key, flags, recordRouteCovered(message, index, flags, view));
  setAddressHeaderParam(message, 'record-route', index, headerSignatureParam, value);
  return value;
}

/**
 * Fig. 12 steps 958-964 (callee route set, in a request) and Fig. 13 steps 988-992 (caller route set, in a
 * response): sign the route the user agent will use from Record-Route element `index` on, plus the first Contact,
 * and put it into that element's URI as a parameter — with the pool-sealed session key beside it when given
 * (Fig. 14 steps 1018-1020).
 */
export function signRouteSet(
  message: SipMessage,
  kind: Extract<SignatureKind, 'route-set-callee' | 'route-set-caller'>,
  key: SigningKey,
  index: number,
  options: { flags?: readonly CoverFlag[]; sealed?: string; view?: HeaderView } = {},
): string {
  const flags = options.flags ?? defaultRouteSetFlags;
  const value = signature(kind, key, flags, routeSetCoveredFromRecordRoute(message, kind, index, flags, options.view));
  setAddressUriParams(message, 'record-route', index, { [routeSetSignatureParam]: value, [sealedKeyParam]: options.sealed });
  return value;
}

/** Fig. 13 step 986: the callee's route-set signature has done its job once the response is on its way back. */
export function removeRouteSetSignature(message: SipMessage, index: number): void {
  setAddressUriParams(message, 'record-route', index, { [routeSetSignatureParam]: undefined, [sealedKeyParam]: undefined });
}

/**
 * ¶[0055]: once the signer has checked its Record-Route signature in a response, the signature has served its purpose
 * and is taken out of that element (a header parameter) before the response goes on, so it does not travel further.
 */
export function removeRecordRouteSignature(message: SipMessage, index: number): void {
  editElement(message, 'record-route', index, (text) => {
    const entry = parseNameAddr(text);
    return formatNameAddr({ ...entry, params: withoutParam(entry.params, headerSignatureParam) });
  });
}
