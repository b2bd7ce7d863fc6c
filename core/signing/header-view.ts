import { isListHeader, normalizeHeaderName, splitOutsideQuotes, type SipMessage } from '../sip/message/index.js';

/**
 * The headers of a message read in one pass, for code that asks for many of them (SipMessage.get normalises every
 * header name again each time): the lines as they were when the view was made, each with its normalised name. A
 * message has a dozen or two lines, so a scan of the names costs less than building a map.
 */
export class HeaderView {
  private readonly names: string[] = [];
  private readonly values: string[] = [];

  constructor(message: SipMessage) {
    for (const header of message.headers) {
      this.names.push(normalizeHeaderName(header.name));
      this.values.push(header.value);
    }
  }

  /** The first line of a header, by its lower-case long name. */
  one(name: string): string | undefined {
    const at = this.names.indexOf(name);
    return at < 0 ? undefined : this.values[at];
  }

  /** Every element of a header, list headers split at top-level commas (as SipMessage.getAll). */
  all(name: string): string[] {
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

export function headerView(message: SipMessage): HeaderView {
  return new HeaderView(message);
}
