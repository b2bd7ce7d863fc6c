import { timingSafeEqual } from 'node:crypto';
import type http from 'node:http';

/** Where the served page asks whether its link's token is still the running phone's. */
export const sessionCheckPath = '/api/session';

/**
 * `GET /api/session?token=…`: 204 when the token is this run's, 401 when it is missing or from another run (the phone
 * was restarted and printed a new link). The page asks only after its WebSocket was refused, to tell the user which
 * of the two happened (a browser shows no HTTP status for a refused WebSocket). It reveals nothing else, and another
 * origin cannot read the answer (no CORS headers). Returns false for any other path.
 */
export function answerSessionCheck(request: http.IncomingMessage, response: http.ServerResponse, token: string): boolean {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  if (url.pathname !== sessionCheckPath) return false;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return true;
  }
  const given = Buffer.from(url.searchParams.get('token') ?? '');
  const expected = Buffer.from(token);
  const valid = given.length === expected.length && timingSafeEqual(given, expected);
  response.writeHead(valid ? 204 : 401, { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' }).end();
  return true;
}
