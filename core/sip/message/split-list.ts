const quote = 0x22;
const backslash = 0x5c;
const open = 0x3c;
const close = 0x3e;

/**
 * Split a header value at `separator` where it is not inside a quoted string or <...> (RFC 3261 §7.3.1:
 * commas inside quotes and angle brackets do not separate elements). Elements are trimmed; empty ones dropped.
 */
export function splitOutsideQuotes(value: string, separator: string): string[] {
  if (!value.includes(separator)) {
    const only = value.trim();
    return only.length > 0 ? [only] : [];
  }
  const sep = separator.charCodeAt(0);
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value.charCodeAt(i);
    if (quoted) {
      if (ch === backslash) i++;
      else if (ch === quote) quoted = false;
    } else if (ch === quote) quoted = true;
    else if (ch === open) depth++;
    else if (ch === close) depth = Math.max(0, depth - 1);
    else if (ch === sep && depth === 0) {
      const part = value.slice(start, i).trim();
      if (part.length > 0) out.push(part);
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last.length > 0) out.push(last);
  return out;
}
