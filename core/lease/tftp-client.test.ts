import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { LabTftpServer } from '../../lab/service-gateway/tftp-server.js';
import { LeaseError } from './lease-error.js';
import { TftpClient, type TftpClientOptions, type TftpEvent } from './tftp-client.js';
import { decodeTftp, encodeTftp, type TftpPacket } from './tftp-packet.js';
import { until } from '../../test/support/until.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});


const quick: Partial<TftpClientOptions> = { timeoutMs: 100, retries: 2, attemptDelayMs: 10 };

async function labServer(files: Record<string, string | Buffer>, extra = {}): Promise<LabTftpServer> {
  const server = await LabTftpServer.start({ files, timeoutMs: 100, ...extra });
  cleanups.push(() => server.stop());
  return server;
}

function client(server: { address: string; port: number }, extra: Partial<TftpClientOptions> = {}): { client: TftpClient; events: TftpEvent[] } {
  const c = new TftpClient({ server, ...quick, ...extra });
  const events: TftpEvent[] = [];
  c.on((e) => events.push(e));
  return { client: c, events };
}

/**
 * A scripted TFTP server: `onRequest` gets each RRQ (with the attempt number) and a send function on a fresh
 * transfer socket; `onPacket` gets what the client sends to that socket.
 */
async function fakeServer(script: (attempt: number, request: TftpPacket, t: { send(p: TftpPacket | Buffer): void; onPacket(f: (p: TftpPacket) => void): void; socket: dgram.Socket }) => void): Promise<{ address: string; port: number; seen: TftpPacket[] }> {
  const main = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => main.bind(0, '127.0.0.1', () => resolve()));
  const sockets: dgram.Socket[] = [main];
  cleanups.push(() => {
    for (const s of sockets) {
      try {
        s.close();
      } catch {
        // closed
      }
    }
  });
  const seen: TftpPacket[] = [];
  let attempts = 0;
  main.on('message', (bytes, rinfo) => {
    const request = decodeTftp(bytes);
    seen.push(request);
    attempts++;
    const transfer = dgram.createSocket('udp4');
    sockets.push(transfer);
    const handlers: Array<(p: TftpPacket) => void> = [];
    transfer.on('message', (b) => {
      const p = decodeTftp(b);
      seen.push(p);
      for (const h of handlers) h(p);
    });
    transfer.bind(0, '127.0.0.1', () =>
      script(attempts, request, {
        send: (p) => transfer.send(Buffer.isBuffer(p) ? p : encodeTftp(p), rinfo.port, rinfo.address),
        onPacket: (f) => handlers.push(f),
        socket: transfer,
      }),
    );
  });
  return { address: '127.0.0.1', port: main.address().port, seen };
}

describe('TftpClient (RFC 1350, RFC 2347-2349) against the lab TFTP server', () => {
  it('reads a multi-block file with negotiated blksize and tsize', async () => {
    const content = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
    const server = await labServer({ 'veilphone.cfg': content });
    const { client: c, events } = client(server.endpoint, { blksize: 1024 });
    const result = await c.fetch('veilphone.cfg');
    expect(result.data.equals(content)).toBe(true);
    expect(result).toMatchObject({ attempts: 1, blksize: 1024, tsize: 5000 });
    expect(events.find((e) => e.type === 'oack')).toEqual({ type: 'oack', blksize: 1024, tsize: 5000 });
    await until(() => server.counters.served === 1);
  });

  it('ends a file that is an exact multiple of the block size with an empty block', async () => {
    const content = Buffer.alloc(1024, 7);
    const server = await labServer({ f: content });
    const result = await client(server.endpoint, { blksize: 512 }).client.fetch('f');
    expect(result.data.equals(content)).toBe(true);
  });

  it('reads an empty file', async () => {
    const server = await labServer({ empty: '' });
    expect((await client(server.endpoint).client.fetch('empty')).data.length).toBe(0);
  });

  it('"file not found" is retried up to 4 attempts (Fig. 5B 580 → 582), then TFTP_FILE_NOT_FOUND', async () => {
    const server = await labServer({});
    const { client: c, events } = client(server.endpoint);
    const error = await c.fetch('missing.cfg').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeaseError);
    expect(error).toMatchObject({ code: 'TFTP_FILE_NOT_FOUND', message: expect.stringContaining('attempt 4 of 4') });
    expect(events.filter((e) => e.type === 'attempt')).toHaveLength(4);
    expect(server.counters.notFound).toBe(4);
    expect(c.counters.failures).toEqual({ TFTP_FILE_NOT_FOUND: 4 });
  });

  it('the file appearing between attempts is fetched by the next attempt', async () => {
    const server = await labServer({});
    const { client: c, events } = client(server.endpoint);
    c.on((e) => {
      if (e.type === 'failed-attempt' && e.attempt === 2) server.setFile('late.cfg', 'hello');
    });
    const result = await c.fetch('late.cfg');
    expect(result).toMatchObject({ attempts: 3 });
    expect(events.filter((e) => e.type === 'failed-attempt')).toHaveLength(2);
  });

  it('no server: TFTP_TIMEOUT after the resends of every attempt', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => void silent.close());
    const { client: c } = client({ address: '127.0.0.1', port: silent.address().port }, { timeoutMs: 30, retries: 1, maxAttempts: 2 });
    await expect(c.fetch('x')).rejects.toMatchObject({ code: 'TFTP_TIMEOUT' });
    expect(c.counters.resent).toBe(2);
  });
});

describe('TftpClient against scripted servers: faults and bad input', () => {
  it('an ERROR packet mid-transfer fails that attempt with the reason; the next attempt succeeds', async () => {
    const server = await fakeServer((attempt, _request, t) => {
      if (attempt === 1) {
        t.send({ op: 'DATA', block: 1, data: Buffer.alloc(512, 1) });
        t.onPacket((p) => {
          if (p.op === 'ACK' && p.block === 1) t.send({ op: 'ERROR', code: 3, message: 'flash read error' });
        });
        return;
      }
      t.send({ op: 'DATA', block: 1, data: Buffer.from('ok') });
    });
    const { client: c, events } = client(server);
    const result = await c.fetch('boot');
    expect(result).toMatchObject({ attempts: 2, blksize: 512 });
    expect(result.data.toString()).toBe('ok');
    const failed = events.find((e) => e.type === 'failed-attempt');
    expect(failed).toMatchObject({ code: 'TFTP_ERROR', message: 'server error 3 "flash read error" after 512 bytes' });
  });

  it('a server that ignores the options sends 512-byte blocks; the client follows (RFC 2347)', async () => {
    const content = Buffer.alloc(700, 3);
    const server = await fakeServer((_a, request, t) => {
      expect(request).toMatchObject({ op: 'RRQ', mode: 'octet', options: { blksize: '1428', tsize: '0' } });
      t.send({ op: 'DATA', block: 1, data: content.subarray(0, 512) });
      t.onPacket((p) => {
        if (p.op === 'ACK' && p.block === 1) t.send({ op: 'DATA', block: 2, data: content.subarray(512) });
      });
    });
    const result = await client(server).client.fetch('f');
    expect(result.data.equals(content)).toBe(true);
    expect(result.blksize).toBe(512);
  });

  it('a refused option (error 8) makes the next attempt ask without options', async () => {
    const server = await fakeServer((attempt, request, t) => {
      if (attempt === 1) return t.send({ op: 'ERROR', code: 8, message: 'no options here' });
      expect((request as Extract<TftpPacket, { op: 'RRQ' | 'WRQ' }>).options).toEqual({});
      t.send({ op: 'DATA', block: 1, data: Buffer.from('plain') });
    });
    const result = await client(server).client.fetch('f');
    expect(result).toMatchObject({ attempts: 2 });
  });

  it('a lost DATA is recovered by resending the last ACK; a duplicate DATA is acknowledged again', async () => {
    const server = await fakeServer((_a, _r, t) => {
      let acks1 = 0;
      t.send({ op: 'DATA', block: 1, data: Buffer.alloc(512, 9) });
      t.onPacket((p) => {
        if (p.op !== 'ACK') return;
        if (p.block === 1 && ++acks1 === 1) return; // "lose" block 2 the first time
        if (p.block === 1) {
          t.send({ op: 'DATA', block: 1, data: Buffer.alloc(512, 9) }); // a stale duplicate first
          t.send({ op: 'DATA', block: 2, data: Buffer.from('end') });
        }
      });
    });
    const { client: c } = client(server);
    const result = await c.fetch('f');
    expect(result.data.length).toBe(515);
    expect(c.counters.resent).toBeGreaterThanOrEqual(1);
    // the lost one, the resent one, and the answer to the duplicate
    await until(() => server.seen.filter((p) => p.op === 'ACK' && p.block === 1).length === 3);
  });

  it('a packet from another port gets error 5 and is ignored (RFC 1350 §4); malformed packets are counted', async () => {
    const server = await fakeServer((_a, _r, t) => {
      t.send({ op: 'OACK', options: { blksize: '512', tsize: '600' } });
      t.onPacket((p) => {
        if (p.op !== 'ACK') return;
        if (p.block === 0) {
          t.send(Buffer.from([0, 3])); // too short
          t.send(Buffer.from([0, 9, 0, 0])); // unknown opcode
          t.send({ op: 'DATA', block: 7, data: Buffer.from('x') }); // out of order
          t.send({ op: 'DATA', block: 1, data: Buffer.alloc(512, 1) });
        }
        if (p.block === 1) t.send({ op: 'DATA', block: 2, data: Buffer.alloc(88, 2) });
      });
    });
    const stranger = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => stranger.bind(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => void stranger.close());
    const strangerGot: TftpPacket[] = [];
    stranger.on('message', (b) => strangerGot.push(decodeTftp(b)));
    // a fixed local port, so the stranger knows where to send
    const fixedPort = await new Promise<number>((resolve) => {
      const probe = dgram.createSocket('udp4');
      probe.bind(0, '127.0.0.1', () => {
        const port = probe.address().port;
        probe.close(() => resolve(port));
      });
    });
    const c2 = new TftpClient({ server, ...quick, blksize: 512, localPort: fixedPort, bindAddress: '127.0.0.1' });
    const c2events: TftpEvent[] = [];
    c2.on((e) => {
      c2events.push(e);
      if (e.type === 'oack') stranger.send(encodeTftp({ op: 'DATA', block: 1, data: Buffer.from('evil') }), fixedPort, '127.0.0.1');
    });
    const result = await c2.fetch('f');
    expect(result.data.length).toBe(600);
    expect(result.tsize).toBe(600);
    expect(c2.counters.rejected.TFTP_BAD_PACKET).toBeGreaterThanOrEqual(4);
    const reasons = c2events.flatMap((e) => (e.type === 'rejected' ? [e.reason] : []));
    expect(reasons.some((r) => /too short/.test(r))).toBe(true);
    expect(reasons.some((r) => /unknown opcode/.test(r))).toBe(true);
    expect(reasons.some((r) => /block 7/.test(r))).toBe(true);
    expect(reasons.some((r) => /packet from port/.test(r))).toBe(true);
    await until(() => strangerGot.length > 0);
    expect(strangerGot).toEqual([{ op: 'ERROR', code: 5, message: 'Unknown transfer ID' }]);
  });

  it('a file above the size limit is refused by its tsize without retrying', async () => {
    const server = await fakeServer((_a, _r, t) => t.send({ op: 'OACK', options: { tsize: '5000000' } }));
    const { client: c } = client(server);
    await expect(c.fetch('huge')).rejects.toMatchObject({ code: 'TFTP_TOO_LARGE' });
    expect(c.counters.attempts).toBe(1);
    await until(() => server.seen.some((p) => p.op === 'ERROR' && p.code === 8));
  });

  it('a transfer shorter than its announced tsize fails with TFTP_SIZE_MISMATCH', async () => {
    const server = await fakeServer((_a, _r, t) => {
      t.send({ op: 'OACK', options: { tsize: '100' } });
      t.onPacket((p) => {
        if (p.op === 'ACK' && p.block === 0) t.send({ op: 'DATA', block: 1, data: Buffer.alloc(10) });
      });
    });
    await expect(client(server, { maxAttempts: 1 }).client.fetch('f')).rejects.toMatchObject({ code: 'TFTP_SIZE_MISMATCH' });
  });

  it('a block size the client never asked for is refused', async () => {
    const server = await fakeServer((_a, _r, t) => t.send({ op: 'OACK', options: { blksize: '60000' } }));
    await expect(client(server, { maxAttempts: 1, blksize: 1024 }).client.fetch('f')).rejects.toMatchObject({ code: 'TFTP_BAD_PACKET' });
  });

  it('the packet codec rejects malformed packets with a reason, never anything but a LeaseError (fuzz)', () => {
    let seed = 99;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const samples = [
      encodeTftp({ op: 'RRQ', file: 'a.cfg', mode: 'octet', options: { blksize: '1428', tsize: '0' } }),
      encodeTftp({ op: 'OACK', options: { blksize: '512' } }),
      encodeTftp({ op: 'DATA', block: 3, data: Buffer.from('abc') }),
      encodeTftp({ op: 'ERROR', code: 1, message: 'File not found' }),
    ];
    for (let round = 0; round < 2000; round++) {
      const bytes = Buffer.from(samples[round % samples.length]!);
      const cut = random() < 0.3 ? Math.floor(random() * bytes.length) : bytes.length;
      const mutated = bytes.subarray(0, cut);
      for (let i = 0; i < 3 && mutated.length > 0; i++) mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
      try {
        decodeTftp(mutated);
      } catch (error) {
        expect(error).toBeInstanceOf(LeaseError);
        expect((error as LeaseError).code).toBe('TFTP_BAD_PACKET');
      }
    }
  });
});
