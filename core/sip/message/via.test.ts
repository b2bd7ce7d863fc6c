import { describe, expect, it } from 'vitest';
import { rng } from '../../../test/support/signing-fixtures.js';
import { parseParams } from './params.js';
import { parseHostPort } from './sip-uri.js';
import { parseVia } from './via.js';

/** RFC 3261 §20.42's Via read by the general rule alone (what parseVia did before its one-match way): the oracle. */
function byRule(text: string): unknown {
  const match = /^\s*SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z0-9-]+)\s+([^;\s]+)\s*(?:;(.*))?$/s.exec(text);
  if (!match) return 'error';
  try {
    const hostPort = parseHostPort(match[2]!);
    const via: Record<string, unknown> = { transport: match[1]!.toUpperCase(), host: hostPort.host, params: match[3] ? parseParams(match[3]) : [] };
    if (hostPort.port !== undefined) via.port = hostPort.port;
    return via;
  } catch {
    return 'error';
  }
}
function byParser(text: string): unknown {
  try {
    return parseVia(text);
  } catch {
    return 'error';
  }
}

describe('parseVia', () => {
  it('reads plain and unusual Vias as the general rule does', () => {
    for (const text of [
      'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK776;rport=5062;received=127.0.0.1',
      'SIP/2.0/tcp Proxy.Example.COM;Received=FE80::1;BRANCH=z9hG4bKa',
      'SIP/2.0/WSS [2001:DB8::1]:05060;rport;branch=z9hG4bKb',
      'SIP/2.0/UDP 127.0.0.1:65536;branch=z9hG4bKc',
      'SIP/2.0/UDP 256.1.1.1;branch=z9hG4bKd',
      'SIP / 2.0 / UDP 127.0.0.1 ; branch = z9hG4bKe ; rport',
      'SIP/2.0/UDP 127.0.0.1;branch="quoted;value"',
      'SIP/2.0/UDP 127.0.0.1;;branch=z9hG4bKg',
      'SIP/2.0/UDP 127.0.0.1;branch=a=b',
    ]) {
      expect(byParser(text), text).toEqual(byRule(text));
    }
  });

  it('agrees with the general rule on 20,000 drawn Vias', () => {
    const random = rng(13);
    const next = (n: number): number => Math.floor(random() * n);
    const pick = <T>(items: readonly T[]): T => items[next(items.length)]!;
    const hosts = ['127.0.0.1', '10.0.0.300', 'Example.COM', 'a..b', '[::1]', '[2001:DB8::A]', '[1.2.3.4]', 'h', '-x.com', 'x_y.com', ''];
    const names = ['branch', 'rport', 'Received', 'maddr', 'x-Y', 'b%61', '', ' lr', 'a b'];
    const values = ['z9hG4bK1', 'ABC', '127.0.0.1', 'FE80::1', '[::1]', '%41b', '"q;v"', '', '5060', 'a=b', 'x,y'];
    let plain = 0;
    for (let i = 0; i < 20_000; i++) {
      let text = `SIP/2.0/${pick(['UDP', 'udp', 'Tcp', 'TLS', 'X-1', 'A_B'])} ${pick(hosts)}${pick(['', ':5060', ':05060', ':0', ':65535', ':65536', ':123456', ':'])}`;
      for (let p = next(5); p > 0; p--) text += next(3) === 0 ? `;${pick(names)}` : `;${pick(names)}=${pick(values)}`;
      if (next(20) === 0) text = text.replace('/', ' / ');
      if (next(20) === 0) text += ' ';
      const expected = byRule(text);
      expect(byParser(text), text).toEqual(expected);
      if (expected !== 'error' && /^SIP\/2\.0\/\S+ [^\s"]+$/.test(text)) plain++;
    }
    expect(plain).toBeGreaterThan(2000); // the draw reaches the one-match way
  });
});
