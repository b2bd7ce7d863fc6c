import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { datagramLookup } from './datagram-lookup.js';

/** A receiver on its own thread, so it takes a datagram while the sending thread is still busy: when did it come? */
const receiverSource = `
const dgram = require('node:dgram');
const { parentPort } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const socket = dgram.createSocket('udp4');
socket.on('message', () => parentPort.postMessage({ arrivedAt: performance.timeOrigin + performance.now() }));
socket.bind(0, '127.0.0.1', () => parentPort.postMessage({ port: socket.address().port }));
parentPort.on('message', () => socket.close(() => process.exit(0)));
`;

function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
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

  it('puts a datagram on the wire before the sender goes on: it arrives while the sending thread is still busy', async () => {
    const receiver = new Worker(receiverSource, { eval: true });
    try {
      const port = await new Promise<number>((resolve) => receiver.once('message', (message: { port: number }) => resolve(message.port)));
      const arrival = new Promise<number>((resolve) => receiver.once('message', (message: { arrivedAt: number }) => resolve(message.arrivedAt)));
      const sender = dgram.createSocket({ type: 'udp4', lookup: datagramLookup });
      await new Promise<void>((resolve) => sender.bind(0, '127.0.0.1', resolve));
      sender.send('SIP/2.0 100 Trying\r\n\r\n', port, '127.0.0.1');
      const busyFrom = performance.timeOrigin + performance.now();
      busyFor(300); // the rest of a message's handling, stretched: Node's own lookup would send only after it
      const arrivedAt = await arrival;
      sender.close();
      expect(arrivedAt).toBeLessThan(busyFrom + 250);
    } finally {
      receiver.postMessage('stop');
      await new Promise((resolve) => receiver.once('exit', resolve));
    }
  });
});
