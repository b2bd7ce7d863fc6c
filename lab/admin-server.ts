import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AdminServerOptions {
  /** Loopback only: the admin view names anonymous callers (seed 000: the carrier can identify them). */
  address?: string;
  port?: number;
  /** What each path answers with (JSON), e.g. `{ '/snapshot': () => lab.snapshot() }`. */
  routes: Record<string, (query: URLSearchParams) => unknown>;
  token?: string;
}

/**
 * The lab's read-only admin endpoint for operators: registrar bindings, the conversion tables that tie AnonymousN
 * back to the real caller, counters. It answers on loopback only and only with the per-run token, since what it shows
 * is exactly what the callee must never learn.
 */
export class AdminServer {
  private constructor(
    private readonly server: http.Server,
    readonly token: string,
  ) {}

  static async start(options: AdminServerOptions): Promise<AdminServer> {
    const token = options.token ?? randomBytes(18).toString('base64url');
    const expected = Buffer.from(token);
    const server = http.createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://admin.invalid');
      const given = Buffer.from(url.searchParams.get('token') ?? request.headers.authorization?.replace(/^Bearer\s+/i, '') ?? '');
      const send = (status: number, body: unknown): void => {
        response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        response.end(`${JSON.stringify(body, null, 2)}\n`);
      };
      if (request.method !== 'GET') return send(405, { error: 'only GET' });
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return send(401, { error: 'missing or wrong token' });
      const route = options.routes[url.pathname];
      if (!route) return send(404, { error: `no ${url.pathname}; try ${Object.keys(options.routes).join(', ')}` });
      try {
        send(200, route(url.searchParams));
      } catch (error) {
        send(500, { error: (error as Error).message });
      }
    });
    const address = options.address ?? '127.0.0.1';
    if (!/^(127\.|::1$|localhost$)/.test(address)) throw new Error(`the admin endpoint listens on loopback only, not ${address}`);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, address, () => resolve());
    });
    return new AdminServer(server, token);
  }

  get url(): string {
    const { address, port } = this.server.address() as AddressInfo;
    return `http://${address.includes(':') ? `[${address}]` : address}:${port}/`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
