import {
  formatNameAddr,
  formatVia,
  getParam,
  normalizeHeaderName,
  parseNameAddr,
  parseVia,
  splitOutsideQuotes,
  withParam,
  withoutParam,
  type NameAddr,
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
    const elements = header.value.includes(',') ? splitOutsideQuotes(header.value, ',') : header.value.trim().length > 0 ? [header.value.trim()] : [];
    if (index < seen + elements.length) {
      elements[index - seen] = edit(elements[index - seen]!);
      header.value = elements.join(', ');
      return;
    }
    seen += elements.length;
  }
  throw new RangeError(`${name} has no element ${index}`);
}

/** Replace element `index` of a list header. */
export function replaceElement(message: SipMessage, name: string, index: number, value: string): void {
  editElement(message, name, index, () => value);
}

/** Via element `index` with a header parameter set. */
export function setViaParam(message: SipMessage, index: number, name: string, value: string): void {
  editElement(message, 'via', index, (text) => {
    const via = parseVia(text);
    return formatVia({ ...via, params: withParam(via.params, name, value) });
  });
}

/** Record-Route (or Route) element `index` rewritten by `change`. */
export function updateAddress(message: SipMessage, name: 'record-route' | 'route', index: number, change: (entry: NameAddr) => NameAddr): void {
  editElement(message, name, index, (text) => formatNameAddr(change(parseNameAddr(text))));
}

export function withUriParams(entry: NameAddr, set: Record<string, string | undefined>): NameAddr {
  let params = entry.uri.params;
  for (const [name, value] of Object.entries(set)) params = value === undefined ? withoutParam(params, name) : withParam(params, name, value);
  return { ...entry, uri: { ...entry.uri, params } };
}

export function withHeaderParam(entry: NameAddr, name: string, value: string | undefined): NameAddr {
  return { ...entry, params: value === undefined ? withoutParam(entry.params, name) : withParam(entry.params, name, value) };
}

export function uriParamOf(entry: NameAddr, name: string): string | undefined {
  return getParam(entry.uri.params, name);
}
