import { performance } from 'node:perf_hooks';
import type { LeaseClient } from '../../core/lease/lease-client.js';

/** One DHCP exchange, timed from the client's own events. */
export interface LeaseRound {
  /** DISCOVER sent → BOUND. */
  totalMs: number;
  /** The phone's own share: OFFER received → REQUEST sent, plus ACK received → BOUND. */
  clientMs: number;
  /** The server's share including the network: DISCOVER → OFFER, plus REQUEST → ACK. */
  serverMs: number;
}

/** Start `client` (DISCOVER → OFFER → REQUEST → ACK) and say where the time went. */
export async function timedLease(client: LeaseClient): Promise<LeaseRound> {
  const marks: Record<string, number> = {};
  client.on((event) => {
    if (event.type === 'sent') marks[`sent-${event.message}`] ??= performance.now();
    if (event.type === 'received') marks[`received-${event.message}`] ??= performance.now();
    if (event.type === 'bound') marks.bound = performance.now();
  });
  await client.start();
  const discover = marks['sent-DISCOVER']!;
  return {
    totalMs: marks.bound! - discover,
    clientMs: marks['sent-REQUEST']! - marks['received-OFFER']! + (marks.bound! - marks['received-ACK']!),
    serverMs: marks['received-OFFER']! - discover + (marks['received-ACK']! - marks['sent-REQUEST']!),
  };
}
