import type { CoveredItem, SignatureKind } from '../api/signature-types.js';
import { ownCopy, parseCSeq, parseSipUri, parseVia, splitAddress, type SipMessage } from '../sip/message/index.js';
import { headerView, type HeaderView } from './header-view.js';
import { canonicalUri, canonicalVia, signatureUriParams } from './canonical.js';
import { withoutUriParamsAsText } from './header-elements.js';
import { sortedFlags, type CoverFlag } from './signature-param.js';
import { SigningError } from './signing-error.js';
import { TextMemo } from './text-memo.js';

/**
 * The covered sets of the four signatures (docs/signing.md), built the same way when signing and when verifying so
 * that a signature verifies exactly when nothing it covers changed:
 * - Via (claims 8-10, ¶[0025]): every Via below the signer's own, in order, plus the claim-9 extras in its flags;
 * - Record-Route (¶[0051], ¶[0054]): the URI of the signer's entry and of every entry below it (the entries the
 *   request carried when it passed), plus the Call-ID;
 * - route set (¶[0033], ¶[0042], claims 13 and 17): the route the user agent will follow from the signer on — the
 *   signer's entry and those after it in route order — then the remote target (the first Contact, later the
 *   Request-URI), plus the Call-ID and the caller's tag, which bind it to one dialog.
 * The signer's own Via is left out (the next hop stamps `received`/`rport` on it); its signature parameters are
 * left out of every URI (canonical.ts).
 */

function coverFailure(what: string, error: unknown): SigningError {
  return new SigningError('UNCOVERABLE', `cannot read ${what}: ${(error as Error).message}`);
}

/**
 * Vias are not memoised: each carries its request's own branch, and the response that brings one back is recognised
 * by the signing proxy (lab/signing/own-signatures.ts) without canonical forms. A memo would only keep every new Via.
 */
/**
 * Canonical URIs by the URI's own text (what is inside the `<>` of a Record-Route, Route, Contact, From or To): a
 * dialog's URIs repeat in every message, while the element around them changes with each new tag or signature.
 */
const uriMemo = new TextMemo((text) => canonicalUri(parseSipUri(text)), ownCopy);

/** The canonical URI of a name-addr element (Record-Route, Route, Contact, To): RFC 3261 §20.10's parts, then the URI. */
function uriOf(element: string, what: string): string {
  try {
    return uriMemo.get(unsignedUri(splitAddress(element).uri));
  } catch (error) {
    throw coverFailure(what, error);
  }
}

const signatureParamNames = [...signatureUriParams];

/**
 * A URI's text without the signature parameters a signer puts into it, when they can be cut as text
 * (header-elements.ts): canonical forms leave them out anyway, so a Record-Route entry is found in the memo whatever
 * route-set signature it carries this time, rather than computed and kept once per signature.
 */
function unsignedUri(uri: string): string {
  if (!/vp-/i.test(uri)) return uri;
  return withoutUriParamsAsText(`<${uri}>`, signatureParamNames)?.slice(1, -1) ?? uri;
}

/** The flag-selected extras, in flag order (c, f, g, p, s, t). */
function extras(view: HeaderView, flags: readonly CoverFlag[], context: { peer?: string; callerTag?: 'from' | 'to' }): CoveredItem[] {
  const out: CoveredItem[] = [];
  for (const flag of sortedFlags(flags)) {
    switch (flag) {
      case 'c':
        out.push({ item: 'Call-ID', value: view.one('call-id') ?? '' });
        break;
      case 'f':
        out.push({ item: 'From-Tag', value: tagOf(view, 'from') });
        break;
      case 'g':
        out.push({ item: 'Caller-Tag', value: tagOf(view, context.callerTag ?? 'from') });
        break;
      case 'p':
        if (context.peer === undefined) throw new SigningError('UNCOVERABLE', 'the signature covers the next hop, and the peer is not known here');
        out.push({ item: 'Peer', value: context.peer.toLowerCase() });
        break;
      case 's':
        out.push({ item: 'CSeq', value: cseqOf(view) });
        break;
      case 't':
        out.push({ item: 'To-URI', value: uriOf(view.one('to') ?? '', 'To') });
        break;
      case 'r':
        break; // bound through the flags field of the MAC input, no item of its own
    }
  }
  return out;
}

/** The tag of the From or To header (memoised with the canonical URI). */
export function tagOf(view: HeaderView, header: 'from' | 'to'): string {
  try {
    return view.tag(header) ?? '';
  } catch (error) {
    throw coverFailure(header === 'from' ? 'From' : 'To', error);
  }
}

/** CANCEL and ACK reuse the INVITE's Via (RFC 3261 §9.1, §17.1.1.3), so they count as the INVITE's CSeq method. */
function cseqOf(view: HeaderView): string {
  try {
    const { seq, method } = parseCSeq(view.one('cseq') ?? '');
    return `${seq} ${method === 'CANCEL' || method === 'ACK' ? 'INVITE' : method}`;
  } catch (error) {
    throw coverFailure('CSeq', error);
  }
}

/**
 * The covered sets below take the message's headers as a HeaderView. A signer may pass one it read before it signed:
 * what a signer adds is its own Via's signature (a Via signature covers only the Vias below its own), a header
 * parameter of its Record-Route entry (no covered set reads header parameters) and the route-set signature and sealed
 * key in that entry's URI (canonical.ts leaves them out), so that view stands for the message it signs. A signer that
 * changed anything else would have to read the message again.
 */

/** Via signature sitting on Via element `index`: the Vias below it and the extras. */
export function viaCovered(message: SipMessage, index: number, flags: readonly CoverFlag[], peer: string | undefined, view: HeaderView = headerView(message)): CoveredItem[] {
  const items: CoveredItem[] = [];
  try {
    const vias = view.all('via');
    for (let i = index + 1; i < vias.length; i++) items.push({ item: 'Via', value: canonicalVia(parseVia(vias[i]!)) });
  } catch (error) {
    throw coverFailure('a Via', error);
  }
  return [...items, ...extras(view, flags, peer !== undefined ? { peer } : {})];
}

/** Record-Route signature on Record-Route element `index`: that entry and every entry below it. */
export function recordRouteCovered(message: SipMessage, index: number, flags: readonly CoverFlag[], view: HeaderView = headerView(message)): CoveredItem[] {
  const entries = view.all('record-route').slice(index);
  return [...entries.map((e) => ({ item: 'Record-Route', value: uriOf(e, 'a Record-Route') })), ...extras(view, flags, {})];
}

/**
 * A route-set signature as the signer builds it from the Record-Route set of the message it signs: in a request
 * (callee route set) the entry at `index` and those below it, in order; in a response (caller route set) the entry
 * at `index` and those above it, reversed — the caller's route runs bottom-up (RFC 3261 §12.1.2). Then the first
 * Contact (claims 13 and 17: "the first listed CONTACT header", ¶[0033]).
 */
export function routeSetCoveredFromRecordRoute(
  message: SipMessage,
  kind: Extract<SignatureKind, 'route-set-callee' | 'route-set-caller'>,
  index: number,
  flags: readonly CoverFlag[],
  view: HeaderView = headerView(message),
): CoveredItem[] {
  const all = view.all('record-route');
  const route = kind === 'route-set-callee' ? all.slice(index) : all.slice(0, index + 1).reverse();
  const contact = view.all('contact')[0];
  if (contact === undefined) throw new SigningError('UNCOVERABLE', 'a route-set signature needs a Contact (¶[0039])');
  return [
    ...route.map((e) => ({ item: 'Route', value: uriOf(e, 'a Record-Route') })),
    { item: 'Remote-Target', value: uriOf(contact, 'the Contact') },
    ...extras(view, flags, { callerTag: 'from' }),
  ];
}

/**
 * A route-set signature as it comes back in an in-dialog request, on Route element `index`: that entry and every
 * later one, then the Request-URI (the remote target, RFC 3261 §12.2.1.1). The caller's tag is the To tag in the
 * callee's requests and the From tag in the caller's.
 */
export function routeSetCoveredFromRoute(message: SipMessage, kind: Extract<SignatureKind, 'route-set-callee' | 'route-set-caller'>, index: number, flags: readonly CoverFlag[]): CoveredItem[] {
  if (message.kind !== 'request') throw new SigningError('UNCOVERABLE', 'Route headers are checked in requests');
  let target: string;
  try {
    target = uriMemo.get(message.uri);
  } catch (error) {
    throw coverFailure('the Request-URI', error);
  }
  const view = headerView(message);
  return [
    ...view.all('route').slice(index).map((e) => ({ item: 'Route', value: uriOf(e, 'a Route') })),
    { item: 'Remote-Target', value: target },
    ...extras(view, flags, { callerTag: kind === 'route-set-callee' ? 'to' : 'from' }),
  ];
}
