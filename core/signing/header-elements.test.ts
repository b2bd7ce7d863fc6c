import { describe, expect, it } from 'vitest';
import { formatNameAddr, parseNameAddr, withoutParam } from '../sip/message/index.js';
import { withoutUriParamsAsText } from './header-elements.js';

/** What the parser makes of the same removal: the oracle. */
function byParser(text: string, names: readonly string[]): string {
  const entry = parseNameAddr(text);
  let params = entry.uri.params;
  for (const name of names) params = withoutParam(params, name);
  return formatNameAddr({ ...entry, uri: { ...entry.uri, params } });
}

describe('withoutUriParamsAsText', () => {
  const names = ['vp-rs', 'vp-key'];
  it.each([
    '<sip:127.0.0.1:5060;lr;vp-rs=1.rse.k1.hs128.cg.AAAA>',
    '<sip:127.0.0.1:5060;vp-rs=X;lr>;vp-sig=1.rr.k.hs128.c.BBBB',
    '<sip:[2001:db8::1]:5060;lr;VP-RS=x;vp-key=abc;transport=tcp>',
    '<sip:proxy.example.com;lr>',
    '<sip:proxy.example.com>',
    '<sips:127.0.0.1;lr;vp-rs;vp-rs=2>',
  ])('cuts the same parameters the parser would: %s', (text) => {
    const cut = withoutUriParamsAsText(text, names)!;
    expect(cut).not.toMatch(/vp-rs|vp-key/i);
    expect(parseNameAddr(cut)).toEqual(parseNameAddr(byParser(text, names)));
  });

  it.each(['<sip:a;vp-rs=x@127.0.0.1;lr>', '<sip:127.0.0.1;lr?vp-rs=x>', '"Proxy" <sip:127.0.0.1;vp-rs=x>', 'sip:127.0.0.1;vp-rs=x', '<sip:p.example;x=<;vp-rs=EVIL;lr>', '<sip:h;vp-rs=x >', '<sip:h;lr;vp-rs=x\t>', '<sip:h;vp-rs=x>junk'])('leaves what it cannot cut as text to the parser: %s', (text) => {
    expect(withoutUriParamsAsText(text, names)).toBeUndefined();
  });
});
