import { describe, expect, it } from 'vitest';
import type { CallSnapshot } from '../api/phone-types.js';
import type { SipTapEntry } from '../sip/transport/message-tap.js';
import { WireSetupTime } from './wire-setup-time.js';

const entry = (dir: 'in' | 'out', at: number, raw: string): SipTapEntry => ({ dir, at, transport: 'udp', local: '127.0.0.1:1', remote: '127.0.0.1:2', raw });
const response = (status: string, method: string): string => `SIP/2.0 ${status}\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKx\r\nCall-ID: c\r\nCSeq: 1 ${method}\r\nContent-Length: 0\r\n\r\n`;

describe('WireSetupTime', () => {
  it('times the first INVITE out to the first 2xx to an INVITE in; retransmissions, 1xx and other 2xx do not count', () => {
    const wire = new WireSetupTime();
    wire.see(entry('in', 5, response('200 OK', 'INVITE'))); // nothing sent yet: not an answer to us
    wire.see(entry('out', 10, 'INVITE sip:bob@h SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n'));
    wire.see(entry('out', 510, 'INVITE sip:bob@h SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n')); // its retransmission
    wire.see(entry('in', 520, response('180 Ringing', 'INVITE')));
    wire.see(entry('in', 530, response('200 OK', 'PRACK')));
    expect(wire.ms).toBeUndefined();
    wire.see(entry('in', 540, response('200 OK', 'INVITE')));
    wire.see(entry('in', 1040, response('200 OK', 'INVITE'))); // the 2xx again
    expect(wire.ms).toBe(530);
  });
});

describe('a call\'s setupMs', () => {
  it('is what its own trace shows: the INVITE leaving to the 200 arriving', async () => {
    const { Lab } = await import('../../lab/lab.js');
    const { Phone } = await import('./phone.js');
    const { staticSdhFactory } = await import('../../test/support/static-sdh.js');
    const { until } = await import('../../test/support/until.js');
    const lab = await Lab.start({});
    const trace: SipTapEntry[] = [];
    const alice = new Phone({ accounts: [{ id: 'alice', user: 'alice', server: lab.servers.udp!, transport: 'udp', domain: lab.domain }], createSessionDescriptionHandlerFactory: () => staticSdhFactory(), onTrace: (_a, e) => void trace.push(e) });
    const bob = new Phone({ accounts: [{ id: 'bob', user: 'bob', server: lab.servers.udp!, transport: 'udp', domain: lab.domain, answer: { kind: 'auto' } }], createSessionDescriptionHandlerFactory: () => staticSdhFactory() });
    try {
      await bob.register();
      const snapshots: CallSnapshot[] = [];
      alice.subscribe((e) => void (e.type === 'call' && snapshots.push(e.call)));
      const placed = await alice.call({ target: 'bob' });
      const answered = await until(() => snapshots.find((c) => c.id === placed.id && c.state === 'established'));
      const inviteAt = trace.find((e) => e.dir === 'out' && e.raw.startsWith('INVITE ') && e.raw.includes(placed.sipCallId))!.at;
      const okAt = trace.find((e) => e.dir === 'in' && e.raw.startsWith('SIP/2.0 200') && e.raw.includes(placed.sipCallId) && /CSeq: \d+ INVITE/.test(e.raw))!.at;
      expect(answered.setupMs).toBe(okAt - inviteAt);
    } finally {
      await alice.shutdown();
      await bob.shutdown();
      await lab.stop();
    }
  });
});
