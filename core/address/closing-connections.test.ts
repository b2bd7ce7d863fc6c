import fs from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { procNetAddress, socketsStillSending, waitForClosedConnections } from './closing-connections.js';

const linux = fs.existsSync('/proc/net/tcp6');

/** A TCP connection on loopback between two sockets of this process: [client, the server's side]. */
async function connectionOn(address: string): Promise<{ client: net.Socket; accepted: net.Socket; server: net.Server }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect({ host: address, port: (server.address() as net.AddressInfo).port, localAddress: address });
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  return { client, accepted: await accepted, server };
}

describe('TCP connections still closing on an address (the kernel applier waits for them before removing it)', () => {
  const open: Array<net.Socket | net.Server> = [];
  afterEach(() => {
    for (const thing of open.splice(0)) {
      if (thing instanceof net.Server) thing.close();
      else thing.destroy();
    }
  });

  it('writes an address as /proc/net/tcp(6) does', () => {
    // Linux's own rows for 127.0.0.1 and ::1 on a little-endian host
    expect(procNetAddress('127.0.0.1')).toBe('0100007F');
    expect(procNetAddress('::1')).toBe('00000000000000000000000001000000');
    expect(procNetAddress('2001:db8::a11c')).toBe('B80D012000000000000000001CA10000');
  });

  it('counts the rows on that address in a state that may still send, and no others', () => {
    const table = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0',
      '   1: 0100007F:C4A2 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1',
      '   2: 0100007F:C4A4 0100007F:1F90 09 00000000:00000000 01:00000014 00000000     0        0 0 1 0000000000000000 20 4 30 10 -1',
      '   3: 0100007F:C4A6 0100007F:1F90 06 00000000:00000000 03:00000F8A 00000000     0        0 0 3 0000000000000000',
      '   4: 0100007F:C4A8 0100007F:1F90 05 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000',
      '   5: 0200007F:C4AA 0100007F:1F90 04 00000000:00000000 01:00000014 00000000     0        0 0 1 0000000000000000',
    ].join('\n');
    expect(socketsStillSending('127.0.0.1', table)).toBe(2); // ESTABLISHED and LAST-ACK; not LISTEN, TIME-WAIT, FIN-WAIT-2
    expect(socketsStillSending('127.0.0.2', table)).toBe(1); // FIN-WAIT-1
    expect(socketsStillSending('127.0.0.3', table)).toBe(0);
  });

  it.skipIf(!linux)('sees a real connection until both ends have closed it', async () => {
    // an address of its own in 127.0.0.0/8: other tests' connections on 127.0.0.1 come and go meanwhile
    const address = `127.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 250)}`;
    const { client, accepted, server } = await connectionOn(address);
    open.push(client, accepted, server);
    expect(await waitForClosedConnections(address, { timeoutMs: 0 })).toBe(2); // both ends, ESTABLISHED
    setTimeout(() => {
      client.end();
      accepted.end();
    }, 100);
    const started = Date.now();
    expect(await waitForClosedConnections(address, { timeoutMs: 5000 })).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  it.skipIf(!linux)('reads the IPv6 table the same way (::1)', async () => {
    const { client, accepted, server } = await connectionOn('::1');
    open.push(client, accepted, server);
    expect(await waitForClosedConnections('::1', { timeoutMs: 0 })).toBeGreaterThanOrEqual(2);
  });

  it('gives up at its deadline and says how many are left; without a table it does not wait', async () => {
    const busy = '   0: 0100007F:C4A2 0100007F:1F90 01 00000000:00000000 00:00000000 00000000 0 0 2 1';
    const started = Date.now();
    expect(await waitForClosedConnections('127.0.0.1', { read: () => busy, timeoutMs: 50, intervalMs: 5 })).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(await waitForClosedConnections('127.0.0.1', { read: () => undefined })).toBe(0);
  });
});
