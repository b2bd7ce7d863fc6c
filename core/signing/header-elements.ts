import { formatNameAddr, formatVia, getParam, parseNameAddr, parseVia, withParam, withoutParam, type NameAddr, type SipMessage, type Via } from '../sip/message/index.js';

/** Replace element `index` of a list header (Via, Record-Route), one element per line afterwards (RFC 3261 §7.3.1). */
export function replaceElement(message: SipMessage, name: string, index: number, value: string): void {
  const elements = message.getAll(name);
  if (index < 0 || index >= elements.length) throw new RangeError(`${name} has no element ${index}`);
  elements[index] = value;
  message.replaceAll(name, elements);
}

/** Via element `index` with a header parameter set. */
export function setViaParam(message: SipMessage, index: number, name: string, value: string): void {
  const via: Via = parseVia(message.getAll('via')[index] ?? '');
  replaceElement(message, 'via', index, formatVia({ ...via, params: withParam(via.params, name, value) }));
}

/** Record-Route (or Route) element `index` rewritten by `change`. */
export function updateAddress(message: SipMessage, name: 'record-route' | 'route', index: number, change: (entry: NameAddr) => NameAddr): void {
  const entry = parseNameAddr(message.getAll(name)[index] ?? '');
  replaceElement(message, name, index, formatNameAddr(change(entry)));
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
