/**
 * What a `sip:`, `sips:` or `tel:` link may put into the dialer (never a call by itself: a web page must not be able
 * to make the phone dial). RFC 3261 §19.1.1 lets a SIP URI carry `?headers` and URI parameters such as `maddr` that
 * would steer the request; only user@host[:port] survives. RFC 3966: a tel: number keeps its digits, `+`, `*`, `#`
 * and drops visual separators and parameters. Anything else is refused (undefined).
 */
export function parseDialLink(link: string): string | undefined {
  if (typeof link !== 'string' || link.length > 512) return undefined;
  const text = link.trim();
  const tel = /^tel:([^;?]+)/i.exec(text);
  if (tel) {
    const number = decodeSafely(tel[1]!).replace(/[\s().-]/g, '');
    return /^\+?[0-9*#]{1,32}$/.test(number) ? number : undefined;
  }
  const sip = /^(sips?):([^;?]+)/i.exec(text);
  if (!sip) return undefined;
  const target = decodeSafely(sip[2]!);
  const match = /^(?:([A-Za-z0-9\-_.!~*'()&=+$,;?/%]{1,64})@)?((?:[A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}|\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]{2,45}\])(?::(\d{1,5}))?$/.exec(target);
  if (!match) return undefined;
  const [, user, host, port] = match;
  if (port !== undefined && Number(port) > 65535) return undefined;
  return `${sip[1]!.toLowerCase()}:${user !== undefined ? `${user}@` : ''}${host}${port !== undefined ? `:${port}` : ''}`;
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
