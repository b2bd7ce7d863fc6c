import dgram from 'node:dgram';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { datagramLookup, mediaLookup } from './datagram-lookup.js';
import { RtpPortAllocator } from './rtp-port-allocator.js';

/**
 * Bytes waiting in the kernel's receive queue of the IPv4 UDP socket bound to 127.0.0.1:`port` (/proc/net/udp, rx_queue),
 * read synchronously: whether a datagram reached that socket before the code reading it gave the event loop a turn.
 */
function receiveQueueBytes(port: number): number {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of fs.readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] === local) return Number.parseInt(fields[4]!.split(':')[1]!, 16);
  }
  throw new Error(`no UDP socket on 127.0.0.1:${port}`);
}

describe('datagramLookup', () => {
  it('answers an IPv4 or IPv6 literal before it returns, and a name through the resolver', async () => {
    const answers: Array<[string, number]> = [];
    datagramLookup('127.0.0.1', 4, (error, address, family) => answers.push([address, family]));
    datagramLookup('::1', 6, (error, address, family) => answers.push([address, family]));
    expect(answers).toEqual([
      ['127.0.0.1', 4],
      ['::1', 6],
    ]);
    const named = await new Promise<[string, number]>((resolve, reject) => datagramLookup('localhost', 4, (error, address, family) => (error ? reject(error) : resolve([address, family]))));
    expect(named).toEqual(['127.0.0.1', 4]);
  });

  it('puts a datagram on the wire before the sender goes on: it is in the receiver\'s queue before the event loop turns', async () => {
    const bind = async (socket: dgram.Socket): Promise<number> => {
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      return socket.address().port;
    };
    const receiver = dgram.createSocket('udp4');
    const sender = dgram.createSocket({ type: 'udp4', lookup: datagramLookup });
    try {
      const port = await bind(receiver);
      await bind(sender);
      sender.send('SIP/2.0 100 Trying\r\n\r\n', port, '127.0.0.1');
      // no await in between: Node's own lookup would send only after this synchronous code is done
      expect(receiveQueueBytes(port)).toBeGreaterThan(0);
    } finally {
      receiver.close();
      sender.close();
    }
  });

  it('a media socket sends to literals only: a name fails the send at once and is never resolved', async () => {
    const answers: Array<[string, number]> = [];
    mediaLookup('::1', 6, (error, address, family) => answers.push([address, family]));
    expect(answers).toEqual([['::1', 6]]);
    const allocator = new RtpPortAllocator({ min: 46000, max: 46100 });
    const pair = await allocator.allocate('127.0.0.1');
    try {
      const failed = await new Promise<NodeJS.ErrnoException | null>((resolve) => pair.rtp.send(Buffer.from('x'), 40000, 'localhost', resolve));
      expect(failed).toMatchObject({ code: 'ENOTFOUND', message: expect.stringContaining('"localhost"') });
    } finally {
      pair.release();
    }
  });
});
