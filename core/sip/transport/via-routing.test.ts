import { describe, expect, it } from 'vitest';
import { parseVia } from '../message/index.js';
import { responseDestination, stampReceived } from './via-routing.js';

const source = { address: '127.0.0.1', port: 40000 };
const answeredAt = (via: string): string => {
  const to = responseDestination(stampReceived(parseVia(via), source));
  return `${to.address}:${to.port}`;
};

describe('where a response to a request received over UDP goes (RFC 3261 §18.2, RFC 3581)', () => {
  it('follows the sent-by when it is the source, the source when it is not, and rport to the source port', () => {
    expect(answeredAt('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1')).toBe('127.0.0.1:5070');
    expect(answeredAt('SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1')).toBe('127.0.0.1:5070');
    expect(answeredAt('SIP/2.0/UDP phone.example:5070;branch=z9hG4bK1')).toBe('127.0.0.1:5070');
    expect(answeredAt('SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1;rport')).toBe('127.0.0.1:40000');
    // nothing is added when the sent-by is the source and there is no rport: the Via goes back as it came
    expect(stampReceived(parseVia('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1'), source).params).toEqual([{ name: 'branch', value: 'z9hG4bK1' }]);
  });

  it('never lets the sender name another host or port for our answers in received or rport', () => {
    // the sender's real address in the sent-by, a victim in received and rport: the answers would go to the victim
    expect(answeredAt('SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK1;received=127.0.0.9;rport=9')).toBe('127.0.0.1:40000');
    expect(answeredAt('SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK1;received=127.0.0.9')).toBe('127.0.0.1:40000');
    expect(answeredAt('SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK1;rport=9')).toBe('127.0.0.1:40000');
    expect(answeredAt('SIP/2.0/UDP 192.0.2.1:9;branch=z9hG4bK1;received=127.0.0.9;rport=9')).toBe('127.0.0.1:40000');
  });
});
