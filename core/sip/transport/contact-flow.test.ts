import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../../test/support/until.js';
import { ContactFlow } from './contact-flow.js';
import { osSockets } from './sip-sockets.js';

describe('ContactFlow (issue 19 item 9)', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('listens on the port of its connection to the server, and frees it when that connection drops so the flow can be opened again from the same port', async () => {
    const serverSide: net.Socket[] = [];
    const server = net.createServer((socket) => serverSide.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const serverEnd = { address: '127.0.0.1', port: (server.address() as net.AddressInfo).port };

    const first = await ContactFlow.open(osSockets, serverEnd, { address: '127.0.0.1', port: 0 });
    const local = first.local;
    let closed = false;
    first.onClose = () => (closed = true);
    const received: string[] = [];
    first.onData = (data, remote) => received.push(`${remote.address} ${data.toString()}`);
    // a peer connects to the Contact (the connection's own address and port) and is heard
    const peer = net.connect({ port: local.port, host: '127.0.0.1', localAddress: '127.0.0.2' });
    cleanup.push(() => void peer.destroy());
    peer.on('error', () => undefined);
    peer.write('OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n');
    await until(() => received.length === 1 || undefined);
    expect(received[0]).toMatch(/^127\.0\.0\.2 OPTIONS/);

    // the server drops our connection: the listener goes with it, then the flow is told
    await until(() => serverSide.length === 1 || undefined);
    serverSide[0]!.destroy();
    await until(() => closed || undefined);
    const again = await ContactFlow.open(osSockets, serverEnd, local);
    cleanup.push(() => again.close());
    expect(again.local).toEqual(local);
    const peer2 = net.connect({ port: local.port, host: '127.0.0.1' });
    cleanup.push(() => void peer2.destroy());
    await new Promise<void>((resolve, reject) => {
      peer2.once('connect', resolve);
      peer2.once('error', reject);
    });
  });
});
