import net from 'node:net';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, type TestCertificate, type TestPki } from '../../../test/support/test-certificates.js';
import type { SipConnection } from './sip-connection.js';
import { osSockets } from './sip-sockets.js';
import { listenTcp, listenTls, listenWss, type SipListener } from './stream-listeners.js';
import { TcpSipConnection } from './tcp-connection.js';
import { TlsError } from './tls-error.js';
import { readCaFile, type TlsClientSettings } from './tls-trust.js';
import { WsSipConnection } from './ws-connection.js';

const options = (body = ''): string =>
  ['OPTIONS sip:lab@127.0.0.1 SIP/2.0', 'Via: SIP/2.0/TLS 127.0.0.1:9;branch=z9hG4bKtls1', 'From: <sip:a@x>;tag=1', 'To: <sip:b@x>', 'Call-ID: tls-1', 'CSeq: 1 OPTIONS', 'Max-Forwards: 70', `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');

function nextMessage(connection: SipConnection): Promise<string> {
  return new Promise((resolve) => (connection.onMessage = (data) => resolve(data.toString('utf8'))));
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function failure(promise: Promise<unknown>): Promise<TlsError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TlsError);
  return error as TlsError;
}

describe('SIP over TLS and WSS (RFC 3261 §26.2, RFC 7118 §5) on loopback', () => {
  let pki: TestPki;
  let good: TestCertificate;
  let expired: TestCertificate;
  let self: TestCertificate;
  let ca: string;
  const listeners: SipListener[] = [];
  const accepted: SipConnection[] = [];
  const opened: SipConnection[] = [];
  /** What the servers' connections received (tests that replace onMessage read their own). */
  const atServers: string[] = [];

  beforeAll(async () => {
    pki = await makeTestPki();
    good = await pki.issue(['sip.test', '127.0.0.1']);
    expired = await pki.issue(['sip.test', '127.0.0.1'], { expired: true });
    self = await pki.selfSigned(['lab.invalid']);
    ca = readCaFile(pki.caFile);
  });
  afterAll(() => pki.remove());
  afterEach(async () => {
    await Promise.all([...opened.splice(0), ...accepted.splice(0)].map((c) => c.close(50)));
    await Promise.all(listeners.splice(0).map((l) => l.close()));
    atServers.length = 0;
  });

  async function serve(kind: 'tls' | 'wss', certificate: TestCertificate, errors: string[] = []): Promise<SipListener> {
    const listen = kind === 'tls' ? listenTls : listenWss;
    const listener = await listen(
      { address: '127.0.0.1', port: 0 },
      (c) => {
        c.onMessage = (data) => atServers.push(data.toString());
        accepted.push(c);
      },
      { tls: certificate, onError: (code) => errors.push(code) },
    );
    listeners.push(listener);
    return listener;
  }

  const connect = async (kind: 'tls' | 'wss', listener: SipListener, settings: TlsClientSettings, local?: { address: string; port: number }): Promise<SipConnection> => {
    const connection = await osSockets.connect(kind, listener.local, local, settings);
    opened.push(connection);
    return connection;
  };

  it.each(['tls', 'wss'] as const)('%s: a server signed by the account\'s CA, with its name, carries SIP both ways from the leased port', async (kind) => {
    const listener = await serve(kind, good);
    const port = await freePort();
    const client = await connect(kind, listener, { serverName: 'sip.test', caPem: ca }, { address: '127.0.0.1', port });
    expect(client.transport).toBe(kind);
    expect(client.local).toEqual({ address: '127.0.0.1', port });
    expect(client.tls).toMatchObject({ version: 'TLSv1.3', peerFingerprint: good.fingerprint, verifiedBy: 'ca' });
    const server = await expect.poll(() => accepted[0]).toBeDefined().then(() => accepted[0]!);
    expect(server.transport).toBe(kind);
    expect(server.remote.port).toBe(port);
    const atServer = nextMessage(server);
    await client.send(options('v=0\r\n'));
    expect(await atServer).toBe(options('v=0\r\n'));
    const atClient = nextMessage(client);
    await server.send(options());
    expect(await atClient).toBe(options());
  });

  it.each(['tls', 'wss'] as const)('%s: a certificate no trusted CA signed fails CERT_UNTRUSTED (the system store does not know the test CA)', async (kind) => {
    const listener = await serve(kind, good);
    const error = await failure(connect(kind, listener, { serverName: 'sip.test' }));
    expect(error.code).toBe('CERT_UNTRUSTED');
    expect(error.message).toMatch(/sip\.test .*is not trusted/);
  });

  it.each(['tls', 'wss'] as const)('%s: a certificate for another host fails CERT_NAME_MISMATCH', async (kind) => {
    const listener = await serve(kind, good);
    const error = await failure(connect(kind, listener, { serverName: 'other.test', caPem: ca }));
    expect(error.code).toBe('CERT_NAME_MISMATCH');
    expect(error.message).toContain('is for another host');
  });

  it.each(['tls', 'wss'] as const)('%s: an expired certificate fails CERT_EXPIRED', async (kind) => {
    const listener = await serve(kind, expired);
    const error = await failure(connect(kind, listener, { serverName: 'sip.test', caPem: ca }));
    expect(error.code).toBe('CERT_EXPIRED');
    expect(error.message).toContain('has expired');
  });

  it.each(['tls', 'wss'] as const)('%s: a pinned fingerprint trusts exactly that self-signed certificate, whatever its name', async (kind) => {
    const listener = await serve(kind, self);
    const client = await connect(kind, listener, { serverName: '127.0.0.1', fingerprint: self.fingerprint });
    expect(client.tls).toMatchObject({ peerFingerprint: self.fingerprint, verifiedBy: 'pin' });
  });

  it.each(['tls', 'wss'] as const)('%s: another certificate than the pinned one fails CERT_FINGERPRINT_MISMATCH before any SIP is sent', async (kind) => {
    const listener = await serve(kind, self);
    const error = await failure(connect(kind, listener, { serverName: 'sip.test', fingerprint: good.fingerprint }));
    expect(error.code).toBe('CERT_FINGERPRINT_MISMATCH');
    expect(error.message).toContain(self.fingerprint);
    await expect.poll(() => accepted.every((c) => c.closed)).toBe(true);
    expect(atServers).toEqual([]);
  });

  it('sends the server name as SNI, and no SNI for an address (RFC 6066 §3)', async () => {
    const seen: Array<string | false | null> = [];
    const server = tls.createServer({ cert: good.cert, key: good.key }, (socket) => {
      seen.push(socket.servername);
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const remote = { address: '127.0.0.1', port: (server.address() as net.AddressInfo).port };
    try {
      for (const serverName of ['sip.test', '127.0.0.1']) {
        const c = await TcpSipConnection.connectTls(remote, undefined, { serverName, caPem: ca });
        await c.close(50);
      }
      await expect.poll(() => seen.length).toBe(2);
      expect(seen).toEqual(['sip.test', false]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('a server that accepts and never answers the handshake fails HANDSHAKE_TIMEOUT, and the socket is gone', async () => {
    const held: net.Socket[] = [];
    const resets: string[] = [];
    const server = net.createServer((socket) => {
      held.push(socket);
      socket.on('error', (error: NodeJS.ErrnoException) => resets.push(error.code ?? 'ERROR'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const remote = { address: '127.0.0.1', port: (server.address() as net.AddressInfo).port };
    try {
      const error = await failure(TcpSipConnection.connectTls(remote, undefined, { serverName: 'sip.test', caPem: ca, handshakeTimeoutMs: 200 }));
      expect(error.code).toBe('HANDSHAKE_TIMEOUT');
      const wssError = await failure(WsSipConnection.connectSecure(remote, undefined, { serverName: 'sip.test', caPem: ca, handshakeTimeoutMs: 200 }));
      expect(wssError.code).toBe('HANDSHAKE_TIMEOUT');
      // the phone reset its side: the server sees both connections reset
      await expect.poll(() => resets).toEqual(['ECONNRESET', 'ECONNRESET']);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('a server that answers in plain SIP fails HANDSHAKE_FAILED and never receives SIP in the clear', async () => {
    const received: Buffer[] = [];
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined); // the client's reset after the failure is expected here
      socket.on('data', (chunk: Buffer) => {
        received.push(chunk);
        socket.write('SIP/2.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const remote = { address: '127.0.0.1', port: (server.address() as net.AddressInfo).port };
    try {
      const error = await failure(TcpSipConnection.connectTls(remote, undefined, { serverName: 'sip.test', caPem: ca }));
      expect(error.code).toBe('HANDSHAKE_FAILED');
      expect(error.message).toContain('TLS handshake with sip.test');
      const bytes = Buffer.concat(received);
      expect(bytes[0]).toBe(0x16); // a TLS handshake record (RFC 8446 §5.1), the ClientHello
      expect(bytes.toString('latin1')).not.toMatch(/OPTIONS|REGISTER|SIP\/2\.0/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('a plain SIP-over-TCP listener that waits never receives a SIP message from a TLS client', async () => {
    const received: string[] = [];
    const listener = await listenTcp({ address: '127.0.0.1', port: 0 }, (c) => {
      accepted.push(c);
      c.onMessage = (data) => received.push(data.toString());
    });
    listeners.push(listener);
    const error = await failure(TcpSipConnection.connectTls(listener.local, undefined, { serverName: 'sip.test', caPem: ca, handshakeTimeoutMs: 300 }));
    expect(['HANDSHAKE_FAILED', 'HANDSHAKE_TIMEOUT']).toContain(error.code);
    expect(received).toEqual([]);
  });

  it('a TLS listener counts a client that speaks no TLS and hands over no connection', async () => {
    const errors: string[] = [];
    const listener = await serve('tls', good, errors);
    const plain = await TcpSipConnection.connect(listener.local);
    opened.push(plain);
    await plain.send(options());
    await expect.poll(() => errors).toEqual(['TLS_HANDSHAKE_FAILED']);
    expect(accepted).toEqual([]);
  });

  it('refuses a TLS or WSS connection without TLS settings (never in the clear instead)', async () => {
    const listener = await serve('tls', good);
    expect((await failure(osSockets.connect('tls', listener.local))).code).toBe('HANDSHAKE_FAILED');
    expect((await failure(osSockets.connect('wss', listener.local))).code).toBe('HANDSHAKE_FAILED');
  });
});
