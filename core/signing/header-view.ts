import { isListHeader, normalizeHeaderName, splitOutsideQuotes, type SipMessage } from '../sip/message/index.js';

/** The headers of a message read in one pass, for code that asks for many of them (SipMessage.get scans every time). */
export interface HeaderView {
  /** The first line of a header, by its lower-case long name. */
  one(name: string): string | undefined;
  /** Every element of a header, list headers split at top-level commas (as SipMessage.getAll). */
  all(name: string): string[];
}

export function headerView(message: SipMessage): HeaderView {
  const lines: Record<string, string[] | undefined> = Object.create(null) as Record<string, string[] | undefined>;
  for (const header of message.headers) {
    const key = normalizeHeaderName(header.name);
    const list = lines[key];
    if (list) list.push(header.value);
    else lines[key] = [header.value];
  }
  return {
    one: (name) => lines[name]?.[0],
    all: (name) => {
      const found = lines[name];
      if (!found) return [];
      if (!isListHeader(name)) return [...found];
      const out: string[] = [];
      for (const line of found) {
        if (line.includes(',')) out.push(...splitOutsideQuotes(line, ','));
        else if (line.trim().length > 0) out.push(line.trim());
      }
      return out;
    },
  };
}
