import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { until } from '../../test/support/until.js';
import { createResponse, parseSipMessage, type SipRequest } from './message/index.js';
import { SipIdentity } from './sip-identity.js';
import { StreamFramer } from './transport/stream-framer.js';

/** One TCP connection the hand-driven registrar accepted: what came over it, and whether pings get pongs. */
interface Accepted {
  socket: net.Socket;
  requests: SipRequest[];
  pings: number;
  /** Answer pings with CRLF (RFC 5626 §4.4.1 pong). */
  pong: boolean;
}

/**
 * Issue 19 item 9, RFC 5626 outbound over TCP: the REGISTER names the flow (reg-id, +sip.instance) so a registrar may
 * send to the phone over the phone's own connection, and the phone keeps that connection alive with CRLF pings at the
 * registrar's Flow-Timer. A ping left unanswered means the flow failed: the phone opens a new one from its Contact's
 * port and registers again over it.
 */
describe('a TCP identity\'s flow to its registrar (RFC 5626)', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanups.splice(0).reverse()) await step();
  });

  it('registers with reg-id and +sip.instance, pings at the Flow-Timer, and after an unanswered ping registers again over a new flow from the same port', async () => {
    const connections: Accepted[] = [];
    const server = net.createServer((socket) => {
      const accepted: Accepted = { socket, requests: [], pings: 0, pong: connections.length === 0 };
      connections.push(accepted);
      socket.on('error', () => undefined);
      const framer = new StreamFramer(
        (data) => {
          const request = parseSipMessage(data);
          if (request.kind !== 'request') return;
          accepted.requests.push(request);
          const ok = createResponse(request, 200, 'OK');
          if (request.method === 'REGISTER') {
            ok.set('contact', `${request.get('contact')!.replace(/;expires=\d+/, '')};expires=600`);
            ok.set('require', 'outbound');
            ok.set('flow-timer', '1'); // seconds: pings every 0.8-1 s
          }
          socket.write(ok.toString());
        },
        () => {
          accepted.pings++;
          if (accepted.pong) socket.write('\r\n');
        },
      );
      socket.on('data', (chunk: Buffer) => framer.push(chunk));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    cleanups.push(() => connections.forEach((c) => c.socket.destroy()));
    const port = (server.address() as net.AddressInfo).port;
    const bob = await SipIdentity.create({
      aor: { user: 'bob', domain: '127.0.0.1' },
      transport: 'tcp',
      local: { address: '127.0.0.1', port: 0 },
      server: { address: '127.0.0.1', port },
      sessionDescriptionHandlerFactory: staticSdhFactory(),
      keepAlive: { pongTimeoutMs: 1500 }, // wide enough that a pong delayed by a loaded machine is not taken for a lost one
    });
    cleanups.push(() => bob.dispose({ serverGone: true }));
    await bob.register();

    const [first] = connections;
    const register = first!.requests.find((r) => r.method === 'REGISTER')!;
    const contact = register.get('contact')!;
    expect(contact).toMatch(/;reg-id=1(;|$)/);
    const instance = /\+sip\.instance="<urn:uuid:([0-9a-f-]{36})>"/.exec(contact)?.[1];
    expect(instance).toBeDefined();
    expect(register.getAll('supported').join(',')).toMatch(/\boutbound\b/);
    // the connection comes from the Contact's port, so the registrar can use it for the Contact
    expect(first!.socket.remotePort).toBe(bob.local.port);

    // pings at the Flow-Timer, answered
    await until(() => first!.pings >= 2 || undefined, 10_000);
    expect(first!.socket.destroyed).toBe(false);

    // a registrar that stops answering pings: the phone gives the flow up and registers again over a new one
    first!.pong = false;
    const second = await until(() => connections[1], 10_000);
    await until(() => second.requests.some((r) => r.method === 'REGISTER') || undefined, 10_000);
    expect(second.socket.remotePort).toBe(bob.local.port);
    const again = second.requests.find((r) => r.method === 'REGISTER')!.get('contact')!;
    expect(again).toContain(`urn:uuid:${instance!}`); // the same instance and reg-id: the registrar replaces the flow
    expect(again).toMatch(/;reg-id=1(;|$)/);
    await until(() => first!.socket.destroyed || first!.socket.readableEnded || undefined);
    // registered again once the registrar's 200 to that REGISTER arrives (on a loaded machine after the old flow closed)
    await until(() => bob.registrationState === 'registered', 10_000);
  });

  /** A registrar on `port` (0: any) that answers every request 200 over its connections. */
  async function answeringServer(port = 0): Promise<{ port: number; close: () => Promise<void>; accepted: net.Socket[] }> {
    const sockets = new Set<net.Socket>();
    const accepted: net.Socket[] = [];
    const server = net.createServer((socket) => {
      sockets.add(socket);
      accepted.push(socket);
      socket.on('error', () => undefined);
      const framer = new StreamFramer((data) => {
        const request = parseSipMessage(data);
        if (request.kind === 'request') socket.write(createResponse(request, 200, 'OK').toString());
      }, () => undefined);
      socket.on('data', (chunk: Buffer) => framer.push(chunk));
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const close = (): Promise<void> => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    };
    return { port: (server.address() as net.AddressInfo).port, close, accepted };
  }

  /** bob over TCP to the server on `port` (disposed after the test). */
  async function tcpBob(port: number): Promise<SipIdentity> {
    const bob = await SipIdentity.create({
      aor: { user: 'bob', domain: '127.0.0.1' },
      transport: 'tcp',
      local: { address: '127.0.0.1', port: 0 },
      server: { address: '127.0.0.1', port },
      sessionDescriptionHandlerFactory: staticSdhFactory(),
    });
    cleanups.push(() => bob.dispose({ serverGone: true }));
    return bob;
  }

  it('an OPTIONS keep-alive while the server is gone is no answer (not the 503 sip.js makes up), and goes over a new connection once it is back', async () => {
    const first = await answeringServer();
    const bob = await tcpBob(first.port);
    expect(await bob.ping(1000)).toBe(200);
    await first.close(); // a server restart: the connection and the listener gone
    await new Promise((resolve) => setTimeout(resolve, 200)); // the FIN arrives
    expect(await bob.ping(1000)).toBeUndefined();
    const back = await answeringServer(first.port);
    cleanups.push(() => back.close());
    expect(await bob.ping(1000)).toBe(200);
  });

  it('opens a dropped connection once when several ask at the same time (two keep-alives): one new flow, both answered', async () => {
    const server = await answeringServer();
    cleanups.push(() => server.close());
    const bob = await tcpBob(server.port);
    expect(await bob.ping(1000)).toBe(200);
    server.accepted[0]!.destroy(); // the server drops the flow (its listener stays)
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await Promise.all([bob.ping(1000), bob.ping(1000)])).toEqual([200, 200]);
    await new Promise((resolve) => setTimeout(resolve, 300)); // any second opening would have come by now
    expect(server.accepted).toHaveLength(2);
  });
});
