import { addressTag, isListHeader, normalizeHeaderName, splitOutsideQuotes, type SipMessage } from '../sip/message/index.js';

/**
 * The headers of a message read in one pass, for code that asks for many of them (SipMessage.get normalises every
 * header name again each time): the lines as they were when the view was made, each with its normalised name. A
 * message has a dozen or two lines, so a scan of the names costs less than building a map. What it splits and parses
 * (the elements of a list header, the From and To tags) it reads once: the signatures added to one message, and the
 * records kept of them, ask for the same ones (issue 23: parse each header once and hand it to the signer).
 */
export class HeaderView {
  private readonly names: string[] = [];
  private readonly values: string[] = [];
  /**
   * List headers read so far, by name. Every caller gets the same array, read-only by its type (frozen arrays cost the
   * signing proxy 5 % more per call here).
   */
  private lists: Array<{ name: string; elements: readonly string[] }> | undefined;
  private fromTag: string | undefined | null = null;
  private toTag: string | undefined | null = null;

  /** `before`: a view of the same message read earlier; what it read of lines that did not change since is kept. */
  constructor(message: SipMessage, before?: HeaderView) {
    for (const header of message.headers) {
      this.names.push(normalizeHeaderName(header.name));
      this.values.push(header.value);
    }
    if (before === undefined) return;
    if (before.fromTag !== null && before.one('from') === this.one('from')) this.fromTag = before.fromTag;
    if (before.toTag !== null && before.one('to') === this.one('to')) this.toTag = before.toTag;
  }

  /** The first line of a header, by its lower-case long name. */
  one(name: string): string | undefined {
    const at = this.names.indexOf(name);
    return at < 0 ? undefined : this.values[at];
  }

  /** Every element of a header, list headers split at top-level commas (as SipMessage.getAll). */
  all(name: string): readonly string[] {
    const read = this.lists?.find((entry) => entry.name === name);
    if (read !== undefined) return read.elements;
    const elements = this.read(name);
    (this.lists ??= []).push({ name, elements });
    return elements;
  }

  /** The tag of the From or To header (RFC 3261 §19.3), undefined when it has none; throws when the header does not read. */
  tag(header: 'from' | 'to'): string | undefined {
    const known = header === 'from' ? this.fromTag : this.toTag;
    if (known !== null) return known;
    const tag = addressTag(this.one(header) ?? '');
    if (header === 'from') this.fromTag = tag;
    else this.toTag = tag;
    return tag;
  }

  private read(name: string): string[] {
    const list = isListHeader(name);
    const out: string[] = [];
    for (let i = this.names.indexOf(name); i >= 0; i = this.names.indexOf(name, i + 1)) {
      const line = this.values[i]!;
      if (!list) out.push(line);
      else if (line.includes(',')) out.push(...splitOutsideQuotes(line, ','));
      else if (line.trim().length > 0) out.push(line.trim());
    }
    return out;
  }
}

export function headerView(message: SipMessage, before?: HeaderView): HeaderView {
  return new HeaderView(message, before);
}
