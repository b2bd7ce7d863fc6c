import { describe, expect, it } from 'vitest';
import { parseSipMessage, type SipRequest } from '../../core/sip/message/index.js';
import type { Inbound } from '../sip-server/server-transports.js';
import { parseTrustedLink } from './link-trust.js';
import { Tamperer } from './tamperer.js';

/** A BYE along the proxy's route (RFC 3261 §12.2.1.1), arriving from `port` on loopback. */
function bye(port: number): Inbound {
  const message = parseSipMessage(
    [
      'BYE sip:alice@127.0.0.1:5062 SIP/2.0',
      `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKbye${port}`,
      'Max-Forwards: 70',
      'Route: <sip:127.0.0.1:5060;lr;vp-rs=1.rse.k7Qx2fPa.hs128.cg.Jx2bV0yY3m8uW1qQ0b7Kxw>',
      'From: <sip:carol@127.0.0.1>;tag=carol1',
      'To: <sip:alice@127.0.0.1>;tag=alice1',
      'Call-ID: tamper-links',
      'CSeq: 2 BYE',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  ) as SipRequest;
  return { message, hop: { transport: 'udp', remote: { address: '127.0.0.1', port } }, local: { address: '127.0.0.1', port: 5060 } };
}

const isOurs = (uri: { host: string; port?: number }): boolean => uri.host === '127.0.0.1' && uri.port === 5060;

describe('Tamperer links (veilphone lab --tamper-link)', () => {
  it('forges only what arrives over the named link: a third-party phone\'s messages, not the other phone\'s', () => {
    const tamperer = new Tamperer('route_set', isOurs, [parseTrustedLink('udp:127.0.0.1:5070')]);
    const peer = bye(5070);
    const other = bye(5071);
    tamperer.apply(peer);
    tamperer.apply(other);
    expect(peer.message.getAll('route')).toHaveLength(2);
    expect(peer.message.getAll('route')[1]).toBe('<sip:127.0.0.1:9;lr>');
    expect(other.message.getAll('route')).toHaveLength(1);
    expect(tamperer.altered).toBe(1);
  });

  it('forges on every link without links', () => {
    const tamperer = new Tamperer('route_set', isOurs);
    for (const port of [5070, 5071]) tamperer.apply(bye(port));
    expect(tamperer.altered).toBe(2);
  });
});
