import { formatSipUri, getParam, parseNameAddr, parseSipUri, splitOutsideQuotes, withoutParam, type SipUri } from './message/index.js';

/** RFC 3261 §8.1.3.4 bounds nothing; a phone does: at most this many further INVITEs for one call. */
export const maxRedirections = 5;

/**
 * The target set a 3xx adds (RFC 3261 §8.1.3.4): the SIP and SIPS URIs of its Contact header fields, by decreasing
 * q (equal q keep their order), each written as the URI the new request goes to — without the `method` parameter
 * and the header part, which a phone does not turn into header fields of its INVITE.
 */
export function redirectTargets(contactHeaders: readonly string[]): string[] {
  const targets: Array<{ uri: string; q: number; order: number }> = [];
  for (const header of contactHeaders) {
    for (const value of splitOutsideQuotes(header, ',')) {
      let uri: SipUri;
      let q: number;
      try {
        const contact = parseNameAddr(value);
        uri = contact.uri;
        const qValue = Number(getParam(contact.params, 'q') ?? '1');
        q = Number.isFinite(qValue) ? qValue : 0;
      } catch {
        continue; // a Contact that is no URI (or `*`) names no target
      }
      if (uri.scheme === 'tel') continue;
      const { headers: _headers, ...rest } = uri;
      targets.push({ uri: formatSipUri({ ...rest, params: withoutParam(uri.params, 'method') }), q, order: targets.length });
    }
  }
  return targets.sort((a, b) => b.q - a.q || a.order - b.order).map((t) => t.uri);
}

/**
 * What makes two targets the same for the loop check ("placing any given URI in the target set only once prevents
 * infinite redirection loops", §8.1.3.4): scheme, user, host and port; host case and an explicit default port aside.
 */
export function targetKey(target: string): string {
  try {
    const uri = parseSipUri(target);
    const port = uri.port ?? (uri.scheme === 'sips' ? 5061 : 5060);
    return `${uri.scheme}:${uri.user ?? ''}@${uri.host.toLowerCase()}:${port}`;
  } catch {
    return target;
  }
}
