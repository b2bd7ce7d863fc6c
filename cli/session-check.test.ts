import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerSessionCheck } from './session-check.js';

describe('the served page\'s token check (cli/session-check.ts)', () => {
  let server: http.Server;
  let base = '';
  beforeAll(async () => {
    server = http.createServer((request, response) => {
      if (!answerSessionCheck(request, response, 'this-run-token')) response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());

  it('says 204 for this run\'s token and 401 for a missing or earlier one, and nothing for other paths', async () => {
    expect((await fetch(`${base}/api/session?token=this-run-token`)).status).toBe(204);
    expect((await fetch(`${base}/api/session?token=an-earlier-runs`)).status).toBe(401);
    expect((await fetch(`${base}/api/session?token=this-run-toke`)).status).toBe(401);
    expect((await fetch(`${base}/api/session`)).status).toBe(401);
    const answer = await fetch(`${base}/api/session?token=x`);
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    expect((await fetch(`${base}/api/session?token=this-run-token`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${base}/index.html`)).status).toBe(404);
  });
});
