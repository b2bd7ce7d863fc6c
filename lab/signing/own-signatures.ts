import type { KeyClass } from '../../core/signing/index.js';
import { ownCopy } from '../../core/sip/message/index.js';
import type { HeaderView } from '../../core/signing/header-view.js';

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
  keyClass: KeyClass;
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
 * Bounded like RecentBranches: two generations, the old one dropped whole when the young one has aged `keepMs` or holds
 * `limit` signatures; the texts are copied so that no entry keeps its whole message alive.
 */
export class OwnSignatures {
  private young = new Map<string, Signed>();
  private old = new Map<string, Signed>();
  private youngSince: number;

  constructor(
    private readonly now: () => number,
    private readonly keepMs = 60_000,
    private readonly limit = 10_000,
  ) {
    this.youngSince = now();
  }

  remember(value: string, keyClass: KeyClass, keyId: string, texts: SignedTexts): void {
    const now = this.now();
    if (now - this.youngSince >= this.keepMs || this.young.size >= this.limit) {
      this.old = this.young;
      this.young = new Map();
      this.youngSince = now;
    }
    const copy: SignedTexts = { text: ownCopy(texts.text), ...(texts.to !== undefined ? { to: ownCopy(texts.to) } : {}) };
    this.young.set(ownCopy(value), { keyClass, keyId, texts: copy });
  }

  /** The key id of `value` when this proxy made it, for `keyClass`, over exactly these texts; otherwise undefined. */
  recognise(value: string, keyClass: KeyClass, texts: SignedTexts): string | undefined {
    const signed = this.young.get(value) ?? this.old.get(value);
    if (signed === undefined || signed.keyClass !== keyClass || signed.texts.text !== texts.text || !sameTo(signed.texts.to, texts.to)) return undefined;
    return signed.keyId;
  }

  /** Signatures held (at most twice the limit). */
  get size(): number {
    return this.young.size + this.old.size;
  }
}
