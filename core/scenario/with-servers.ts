import type { Scenario } from './scenario-schema.js';

/** `veilphone run --server URI…`: the scenario runs against these servers instead of its lab or server (transport from each URI's `transport` parameter). */
export function withServers(scenario: Scenario, uris: string[]): Scenario {
  const server: NonNullable<Scenario['server']> = {};
  for (const uri of uris) {
    if (!/^sips?:/i.test(uri)) throw new Error(`--server: "${uri}" is not a sip: URI`);
    const transport = /;transport=([a-z]+)/i.exec(uri)?.[1]?.toLowerCase() ?? (/^sips:/i.test(uri) ? 'tls' : 'udp');
    if (transport !== 'udp' && transport !== 'tcp' && transport !== 'ws' && transport !== 'tls' && transport !== 'wss') throw new Error(`--server: transport "${transport}" is not udp, tcp, ws, tls or wss`);
    server[transport] = uri;
  }
  const { lab: _lab, ...rest } = scenario;
  return { ...rest, server };
}
