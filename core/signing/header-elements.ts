import {
  formatNameAddr,
  formatVia,
  normalizeHeaderName,
  parseNameAddr,
  parseVia,
  splitOutsideQuotes,
  withParam,
  withoutParam,
  type SipMessage,
} from '../sip/message/index.js';

/**
 * Rewrite element `index` of a list header (Via, Record-Route) in place, in one pass over the headers: only the line
 * holding it changes (its other elements stay, comma-separated, RFC 3261 §7.3.1).
 */
export function editElement(message: SipMessage, name: string, index: number, edit: (element: string) => string): void {
  const key = normalizeHeaderName(name);
  let seen = 0;
  for (const header of message.headers) {
    if (normalizeHeaderName(header.name) !== key) continue;
    const elements = splitOutsideQuotes(header.value, ',');
    if (index < seen + elements.length) {
      elements[index - seen] = edit(elements[index - seen]!);
      header.value = elements.join(', ');
      return;
    }
    seen += elements.length;
  }
  throw new RangeError(`${name} has no element ${index}`);
}

/** Whether an element may already carry one of these parameters (names are case-insensitive, RFC 3261 §7.3.1). */
function mayCarry(element: string, names: readonly string[]): boolean {
  const lower = element.toLowerCase();
  return names.some((name) => lower.includes(name));
}

const param = (name: string, value: string): string => `;${name}=${value}`;

/**
 * Via element `index` with a header parameter set. A Via ends with its parameters (RFC 3261 §20.42), so a parameter it
 * does not have yet is appended as text; one it has is replaced through the parser.
 */
export function setViaParam(message: SipMessage, index: number, name: string, value: string): void {
  editElement(message, 'via', index, (text) => {
    if (!mayCarry(text, [name])) return text + param(name, value);
    const via = parseVia(text);
    return formatVia({ ...via, params: withParam(via.params, name, value) });
  });
}

/**
 * Record-Route (or Route) element `index` with a header parameter set. In the name-addr form the header parameters
 * follow the `>` (RFC 3261 §20.30), so a new one is appended as text; anything else goes through the parser.
 */
export function setAddressHeaderParam(message: SipMessage, header: 'record-route' | 'route', index: number, name: string, value: string): void {
  editElement(message, header, index, (text) => {
    if (text.startsWith('<') && !mayCarry(text, [name])) return text + param(name, value);
    const entry = parseNameAddr(text);
    return formatNameAddr({ ...entry, params: withParam(entry.params, name, value) });
  });
}

/**
 * Record-Route (or Route) element `index` with URI parameters set (a value) or removed (undefined). New parameters of
 * a `<uri>` without headers go in as text before the `>`; the rest goes through the parser.
 */
export function setAddressUriParams(message: SipMessage, header: 'record-route' | 'route', index: number, set: Readonly<Record<string, string | undefined>>): void {
  const names = Object.keys(set);
  editElement(message, header, index, (text) => {
    if (names.every((name) => set[name] === undefined)) {
      const cut = withoutUriParamsAsText(text, names);
      if (cut !== undefined) return cut;
    }
    const close = text.indexOf('>');
    if (text.startsWith('<') && close > 0 && !text.slice(0, close).includes('?') && !mayCarry(text, names)) {
      let added = '';
      for (const name of names) if (set[name] !== undefined) added += param(name, set[name]);
      return text.slice(0, close) + added + text.slice(close);
    }
    const entry = parseNameAddr(text);
    let params = entry.uri.params;
    for (const name of names) params = set[name] === undefined ? withoutParam(params, name) : withParam(params, name, set[name]);
    return formatNameAddr({ ...entry, uri: { ...entry.uri, params } });
  });
}

/**
 * A `<uri>` element without the named URI parameters, cut as text, or undefined when the URI is not simple enough for
 * that: with no user part, no headers and no quotes, everything after its first `;` is `;name[=value]` parameters
 * (RFC 3261 §19.1.1), none holding `;`, `<` or `>`. Names compare case-insensitively, as `withoutParam` does.
 */
export function withoutUriParamsAsText(text: string, names: readonly string[]): string | undefined {
  if (!text.startsWith('<')) return undefined;
  const close = text.indexOf('>');
  if (close < 0) return undefined;
  const uri = text.slice(1, close);
  // the parser does not split a parameter list at a `;` after an unclosed `<` (split-list.ts): nor may this
  if (uri.includes('@') || uri.includes('?') || uri.includes('"') || uri.includes('<')) return undefined;
  // nor what the parser refuses: white space inside the `<>`, anything but header parameters after them
  if (/\s/.test(uri) || !/^(?:\s*;|\s*$)/.test(text.slice(close + 1))) return undefined;
  const semi = uri.indexOf(';');
  if (semi < 0) return text;
  const lower = names.map((name) => name.toLowerCase());
  let kept = '';
  for (const param of uri.slice(semi + 1).split(';')) {
    const eq = param.indexOf('=');
    if (!lower.includes((eq < 0 ? param : param.slice(0, eq)).trim().toLowerCase())) kept += `;${param}`;
  }
  return `<${uri.slice(0, semi)}${kept}${text.slice(close)}`;
}
