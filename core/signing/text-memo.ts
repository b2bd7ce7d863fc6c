/**
 * A bounded memo of a pure function of one header element's text. A proxy reads the same elements again and again —
 * the Vias it signed in a request come back in the response, a dialog's Record-Route set in every request — so their
 * canonical forms are computed once. Texts come off the wire, so the memo is bounded: two generations of at most
 * `limit` texts each; when the young one fills up, the old one is dropped whole and the young one takes its place
 * (no per-entry eviction: deleting from the front of a Map leaves holes that every later scan walks over). A text
 * whose computation throws is not kept (it throws again next time).
 */
export class TextMemo<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();

  constructor(
    private readonly compute: (text: string) => V,
    private readonly limit = 2048,
  ) {}

  get(text: string): V {
    const young = this.young.get(text);
    if (young !== undefined) return young;
    const value = this.old.get(text) ?? this.compute(text);
    if (this.young.size >= this.limit) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(text, value);
    return value;
  }

  /** Texts held (at most twice the limit). */
  get size(): number {
    return this.young.size + this.old.size;
  }
}
