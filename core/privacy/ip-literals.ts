/**
 * IP address literals in SIP text (Via sent-by and received=, Contact and Route hosts, SDP o=/c=, Call-ID hosts),
 * compared by value: `2001:DB8::1`, `[2001:db8:0:0::1]` and `2001:db8::0.0.0.1` are one address (RFC 5952 §4 says
 * how to write one; peers need not follow it, so a leak check must not depend on it).
 */

/** The canonical text of an IPv4 or IPv6 address (IPv6: eight lower-case groups, no compression), or undefined. */
export function normalizeIp(text: string): string | undefined {
  const bare = text.trim().replace(/^\[(.*)\]$/, '$1').replace(/%[\w.-]+$/, '');
  if (bare.includes(':')) return normalizeIpv6(bare);
  return normalizeIpv4(bare);
}

function normalizeIpv4(text: string): string | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.map(Number).join('.');
}

function normalizeIpv6(text: string): string | undefined {
  let body = text.toLowerCase();
  const v4 = /(?:^|:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(body);
  if (v4) {
    const ipv4 = normalizeIpv4(v4[1]!);
    if (ipv4 === undefined) return undefined;
    const [a, b, c, d] = ipv4.split('.').map(Number) as [number, number, number, number];
    body = `${body.slice(0, body.length - v4[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string | undefined): string[] | undefined => {
    if (part === undefined || part === '') return [];
    const list = part.split(':');
    return list.every((g) => /^[0-9a-f]{1,4}$/.test(g)) ? list : undefined;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  return [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail].map((g) => parseInt(g, 16).toString(16)).join(':');
}

const ipv4Pattern = /(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?!\.?\d)/g;
const ipv6Pattern = /[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]*[0-9A-Fa-f.]|::/g;

/**
 * Every IP literal in a piece of text, canonical, raw or bracketed. A run like `2001:db8::1:5060` (an unbracketed
 * host:port, which RFC 3261 §19.1.1 forbids but careless peers write) yields both readings.
 */
export function findIpLiterals(text: string): string[] {
  const found = new Set<string>();
  for (const match of text.matchAll(ipv4Pattern)) {
    const ip = normalizeIpv4(match[0]);
    if (ip !== undefined) found.add(ip);
  }
  for (const match of text.matchAll(ipv6Pattern)) {
    const candidate = match[0];
    if ((candidate.match(/:/g) ?? []).length < 2) continue;
    for (const reading of [candidate, candidate.replace(/:\d{1,5}$/, '')]) {
      const ip = normalizeIpv6(reading);
      if (ip !== undefined) found.add(ip);
    }
  }
  return [...found];
}
