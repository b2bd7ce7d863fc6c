/** Why the served page has no connection to its phone, in the terms the banner explains. */
export type ConnectionProblem = 'no-token' | 'stale-token' | 'service-down' | 'lost';

/**
 * After the WebSocket closed (or was refused): ask the server that served the page whether the link's token is still
 * this run's (cli/session-check.ts). 401: the phone was restarted and the link is stale; no answer at all: the phone
 * service is not running; 204: the token is fine and the connection itself was lost.
 */
export async function diagnoseConnection(token: string, fetcher: (url: string) => Promise<{ status: number }> = (url) => fetch(url, { cache: 'no-store' })): Promise<ConnectionProblem> {
  if (token === '') return 'no-token';
  try {
    const answer = await fetcher(`/api/session?token=${encodeURIComponent(token)}`);
    if (answer.status === 401) return 'stale-token';
    return answer.status === 204 ? 'lost' : 'service-down';
  } catch {
    return 'service-down';
  }
}
