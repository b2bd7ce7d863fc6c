import { isIP } from 'node:net';
import { bareHost, getParam, hasParam, withParam, type ReadonlyVia } from '../message/index.js';
import type { Endpoint } from './endpoint.js';

/**
 * Where a response goes over UDP (RFC 3261 §18.2.2 with RFC 3581 rport): the `received` address (or the sent-by
 * host), to the `rport` port (or the sent-by port, default 5060). A sent-by name that is not an address falls
 * back to the request's source, which is where `received` would have pointed.
 */
export function responseDestination(via: ReadonlyVia, source?: Endpoint): Endpoint {
  const received = getParam(via.params, 'received');
  const host = received ?? bareHost(via.host);
  const rport = getParam(via.params, 'rport');
  const port = rport !== undefined && /^\d+$/.test(rport) ? Number(rport) : (via.port ?? 5060);
  if (isIP(host) === 0) {
    if (source) return source;
    throw new Error(`cannot route a response to Via host "${via.host}"`);
  }
  return { address: host, port };
}

/**
 * What a receiver writes into the top Via of a request it received over UDP (RFC 3261 §18.2.1, RFC 3581 §4):
 * `received` when the source differs from the sent-by host, and the source port into `rport`. A `received` or an
 * `rport` value the sender wrote itself is replaced by the source it really came from: responses go where these point
 * (responseDestination), so one datagram naming another host there would have our answers, and every Timer G
 * retransmission of them, sent to that host (a reflection: the sender never needs to forge its own address).
 */
export function stampReceived(via: ReadonlyVia, source: Endpoint): ReadonlyVia {
  let params = via.params;
  if (bareHost(via.host) !== source.address || hasParam(params, 'received')) params = withParam(params, 'received', source.address);
  if (hasParam(params, 'rport')) {
    params = withParam(params, 'received', source.address);
    params = withParam(params, 'rport', String(source.port));
  }
  return { ...via, params };
}
