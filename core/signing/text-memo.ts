import { ownCopy } from '../sip/message/index.js';

/**
 * A bounded memo of a pure function of one header element's text. A proxy reads the same elements again and again —
 * a dialog's Record-Route set and Contacts in every request, a user's URIs in every call — so their canonical forms
 * are computed once.
 *
 * Texts come off the wire, so the memo is bounded three ways:
 * - two generations of at most `limit` texts each; when the young one fills up, the old one is dropped whole and the
 *   young one takes its place (no per-entry eviction: deleting from the front of a Map leaves holes that every later
 *   scan walks over);
 * - texts longer than `maxTextLength` are computed but not kept;
 * - what is kept is copied first: a header element is a slice of its whole message, and a slice keeps the message
 *   alive, so a peer padding its messages to 64 KB would otherwise have each entry hold 64 KB.
 * A text whose computation throws is not kept (it throws again next time).
 */
export class TextMemo<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();

  constructor(
    private readonly compute: (text: string) => V,
    /** Copies a value so that it shares nothing with the text it came from. */
    private readonly detach: (value: V) => V,
    private readonly limit = 2048,
    private readonly maxTextLength = 512,
  ) {}

  get(text: string): V {
    const young = this.young.get(text);
    if (young !== undefined) return young;
    const old = this.old.get(text);
    const value = old ?? this.compute(text);
    if (text.length > this.maxTextLength) return value;
    if (this.young.size >= this.limit) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(ownCopy(text), old ?? this.detach(value));
    return value;
  }

  /** Texts held (at most twice the limit). */
  get size(): number {
    return this.young.size + this.old.size;
  }
}
