import { describe, expect, it } from 'vitest';
import { rng } from '../../test/support/signing-fixtures.js';
import { parseVia } from '../sip/message/index.js';
import { canonicalVia, canonicalViaText } from './canonical.js';

/** The parser's way, the oracle: the canonical form, or the error it throws. */
function byParser(text: string): string {
  try {
    return canonicalVia(parseVia(text));
  } catch (error) {
    return `error: ${(error as Error).message}`;
  }
}
function byText(text: string): string {
  try {
    return canonicalViaText(text);
  } catch (error) {
    return `error: ${(error as Error).message}`;
  }
}

describe('canonicalViaText', () => {
  it('gives what the parser gives for plain Vias, and for the others takes the parser', () => {
    for (const text of [
      'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK776asdhds;rport=5062;received=127.0.0.1',
      'SIP/2.0/tcp Proxy.Example.COM;received=FE80::1;branch=z9hG4bKa;maddr=ATLANTA.com;ttl=16',
      'SIP/2.0/WSS [2001:DB8::1]:05060;rport;branch=z9hG4bKb',
      'SIP/2.0/UDP 127.0.0.1:65536;branch=z9hG4bKc',
      'SIP/2.0/UDP 256.1.1.1;branch=z9hG4bKd',
      'SIP / 2.0 / UDP 127.0.0.1 ; Branch = z9hG4bKe ; RPORT',
      'SIP/2.0/UDP 127.0.0.1;branch="quoted;value"',
      'SIP/2.0/UDP 127.0.0.1;br%61nch=z9hG4bK%41f',
      'SIP/2.0/UDP 127.0.0.1;;branch=z9hG4bKg',
      'SIP/2.0/UDP a..b;branch=z9hG4bKh',
    ]) {
      expect(byText(text), text).toBe(byParser(text));
    }
    expect(byText('SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bKx')).toBe('SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx;rport');
  });

  it('agrees with the parser on 20,000 drawn Vias, plain and not', () => {
    const random = rng(11);
    const next = (n: number): number => Math.floor(random() * n);
    const pick = <T>(items: readonly T[]): T => items[next(items.length)]!;
    const hosts = ['127.0.0.1', '10.0.0.300', 'Example.COM', 'a..b', '[::1]', '[2001:DB8::A]', '[1.2.3.4]', 'h', '-x.com', 'x_y.com'];
    const names = ['branch', 'rport', 'received', 'maddr', 'ttl', 'Branch', 'RPORT', 'x-Y', 'b%61', 'lr', ''];
    const values = ['z9hG4bK1', 'ABC', '127.0.0.1', 'FE80::1', '[::1]', '%41b', '"q;v"', '', '5060', 'a b'];
    let plain = 0;
    for (let i = 0; i < 20_000; i++) {
      let text = `SIP/2.0/${pick(['UDP', 'udp', 'Tcp', 'TLS', 'SCTP', 'X'])} ${pick(hosts)}${pick(['', ':5060', ':05060', ':65535', ':65536', ':123456', ':'])}`;
      for (let p = next(5); p > 0; p--) {
        const name = pick(names);
        text += next(3) === 0 ? `;${name}` : `;${name}=${pick(values)}`;
      }
      if (next(20) === 0) text = text.replace('/', ' / ');
      expect(byText(text), text).toBe(byParser(text));
      if (!byParser(text).startsWith('error') && /^SIP\/2\.0\/[A-Za-z]+ \S+$/.test(text) && !/[A-Z%"]/.test(text.split(';').slice(1).map((p) => p.split('=')[0]).join(''))) plain++;
    }
    expect(plain).toBeGreaterThan(2000); // the draw does reach the one-match way
  });
});
