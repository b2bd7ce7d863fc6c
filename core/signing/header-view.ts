import { isListHeader, normalizeHeaderName, splitOutsideQuotes, type SipMessage } from '../sip/message/index.js';

/** The headers of a message read in one pass, for code that asks for many of them (SipMessage.get scans every time). */
export class HeaderView {
  private readonly lines = new Map<string, string[]>();

  constructor(message: SipMessage) {
    for (const header of message.headers) {
      const key = normalizeHeaderName(header.name);
      const list = this.lines.get(key);
      if (list) list.push(header.value);
      else this.lines.set(key, [header.value]);
    }
  }

  /** The first line of a header, by its lower-case long name. */
  one(name: string): string | undefined {
    return this.lines.get(name)?.[0];
  }

  /** Every element of a header, list headers split at top-level commas (as SipMessage.getAll). */
  all(name: string): string[] {
    const found = this.lines.get(name);
    if (!found) return [];
    if (!isListHeader(name)) return [...found];
    const out: string[] = [];
    for (const line of found) {
      if (line.includes(',')) out.push(...splitOutsideQuotes(line, ','));
      else if (line.trim().length > 0) out.push(line.trim());
    }
    return out;
  }
}

export function headerView(message: SipMessage): HeaderView {
  return new HeaderView(message);
}
