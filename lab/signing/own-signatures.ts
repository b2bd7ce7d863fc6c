import type { SignatureKind } from '../../core/api/signature-types.js';
import { tagOf } from '../../core/signing/covered-items.js';
import type { HeaderView } from '../../core/signing/header-view.js';
import { ownCopy } from '../../core/sip/message/index.js';

/**
 * The header texts a signature was computed from, as the message carried them: every element its covered set is
 * built from, and more (every extra a flag may name), so that the same texts always mean the same covered set.
 * `to` stands apart: a response adds the callee's tag to the request's To (RFC 3261 §8.2.6.2).
 */
export interface SignedTexts {
  text: string;
  to?: string;
}

/** Texts of a Via signature on Via element `index` (covered-items.ts `viaCovered`): the Vias below it, the extras, the peer. */
export function viaTexts(view: HeaderView, index: number, peer: string): SignedTexts {
  let text = `${peer}\n${view.one('call-id') ?? ''}\n${view.one('from') ?? ''}\n${view.one('cseq') ?? ''}`;
  const vias = view.all('via');
  for (let i = index + 1; i < vias.length; i++) text += `\n${vias[i]}`;
  return { text, to: view.one('to') ?? '' };
}

/** Texts of a Record-Route signature on Record-Route element `index` (`recordRouteCovered`): that entry, those below it, the Call-ID. */
export function recordRouteTexts(view: HeaderView, index: number): SignedTexts {
  let text = view.one('call-id') ?? '';
  const entries = view.all('record-route');
  for (let i = index; i < entries.length; i++) text += `\n${entries[i]}`;
  return { text };
}

/**
 * Texts of a route-set signature as its signer saw them (`routeSetCoveredFromRecordRoute`): the route from the signer's
 * Record-Route entry on, in the order the user agent will follow it (a callee's route set runs top-down from `index`, a
 * caller's bottom-up to it, RFC 3261 §12.1.1, §12.1.2), the remote target (the URI of the first Contact), the Call-ID
 * and the caller's tag. Undefined when the Contact is not a bare `<uri>`, whose URI text cannot be cut out unparsed.
 */
export function signedRouteSetTexts(view: HeaderView, kind: 'route-set-callee' | 'route-set-caller', index: number): SignedTexts | undefined {
  const contact = view.all('contact')[0];
  if (contact === undefined || !contact.startsWith('<')) return undefined;
  const close = contact.indexOf('>');
  if (close < 0) return undefined;
  const entries = view.all('record-route');
  const route = kind === 'route-set-callee' ? entries.slice(index) : entries.slice(0, index + 1).reverse();
  return routeSetTexts(view.one('call-id') ?? '', tagOf(view, 'from'), contact.slice(1, close), route);
}

/**
 * Texts of a route-set signature as an in-dialog request brings it back on Route element `index`
 * (`routeSetCoveredFromRoute`): that entry and every later one, the Request-URI, the Call-ID and the caller's tag (the
 * To tag in the callee's requests, the From tag in the caller's).
 */
export function usedRouteSetTexts(view: HeaderView, kind: 'route-set-callee' | 'route-set-caller', index: number, requestUri: string): SignedTexts {
  return routeSetTexts(view.one('call-id') ?? '', tagOf(view, kind === 'route-set-callee' ? 'to' : 'from'), requestUri, view.all('route').slice(index));
}

function routeSetTexts(callId: string, callerTag: string, remoteTarget: string, route: readonly string[]): SignedTexts {
  let text = `${callId}\n${callerTag}\n${remoteTarget}`;
  for (const entry of route) text += `\n${entry}`;
  return { text };
}

/**
 * A To header parameter list that only adds a tag: `;tag=token` after a name-addr's closing `>`. What follows the `>`
 * is header parameters (RFC 3261 §20.39, §25.1 `to-param`), so the To URI a signature covers is the same.
 */
const addedTag = /^\s*;\s*tag\s*=\s*[A-Za-z0-9.!%*_+`'~-]+\s*$/i;

function sameTo(signed: string | undefined, now: string | undefined): boolean {
  if (signed === now) return true;
  if (signed === undefined || now === undefined || !signed.endsWith('>') || !now.startsWith(signed)) return false;
  return addedTag.test(now.slice(signed.length));
}

interface Signed {
  kind: SignatureKind;
  keyId: string;
  texts: SignedTexts;
}

/**
 * The signatures this proxy made lately, by value, with the texts each was computed from (issue 23: recognise the
 * proxy's own untouched signatures from a bounded record of what it signed). A response that brings one back over
 * exactly those texts carries exactly the covered set that was signed, so its MAC matches without rebuilding canonical
 * forms or computing it again: the check's verdict is the same, and only its cost differs. Anything else (a changed
 * text, a signature this proxy does not remember, another family's signature) goes through the full check.
 *
 * Bounded like RecentBranches: two generations, the old one dropped whole when the young one has aged `keepMs`, holds
 * `limit` signatures or `maxCharacters` characters of texts. Texts longer than `maxTextLength` are not kept (their
 * signature takes the full check when it comes back): a phone padding its requests toward 64 KB would otherwise pin
 * 64 KB per entry. What is kept is copied, so that no entry keeps its whole message alive.
 */
export class OwnSignatures {
  private young = new Map<string, Signed>();
  private old = new Map<string, Signed>();
  private youngSince: number;
  private youngCharacters = 0;

  constructor(
    private readonly now: () => number,
    private readonly keepMs = 60_000,
    private readonly limit = 10_000,
    private readonly maxCharacters = 2_000_000,
    private readonly maxTextLength = 2048,
  ) {
    this.youngSince = now();
  }

  remember(value: string, kind: SignatureKind, keyId: string, texts: SignedTexts): void {
    const characters = value.length + texts.text.length + (texts.to?.length ?? 0);
    if (characters > this.maxTextLength) return;
    const now = this.now();
    if (now - this.youngSince >= this.keepMs || this.young.size >= this.limit || this.youngCharacters + characters > this.maxCharacters) {
      this.old = this.young;
      this.young = new Map();
      this.youngSince = now;
      this.youngCharacters = 0;
    }
    this.youngCharacters += characters;
    const copy: SignedTexts = { text: ownCopy(texts.text), ...(texts.to !== undefined ? { to: ownCopy(texts.to) } : {}) };
    this.young.set(value, { kind, keyId, texts: copy }); // the value is this proxy's own text, no slice of a message
  }

  /** The kind of signature `value` is, when this proxy made it lately. */
  kindOf(value: string): SignatureKind | undefined {
    return (this.young.get(value) ?? this.old.get(value))?.kind;
  }

  /** The key id of `value` when this proxy made it, as a signature of `kind`, over exactly these texts; otherwise undefined. */
  recognise(value: string, kind: SignatureKind, texts: SignedTexts): string | undefined {
    const signed = this.young.get(value) ?? this.old.get(value);
    if (signed === undefined || signed.kind !== kind || signed.texts.text !== texts.text || !sameTo(signed.texts.to, texts.to)) return undefined;
    return signed.keyId;
  }

  /** Signatures held (at most twice the limit). */
  get size(): number {
    return this.young.size + this.old.size;
  }
}
