import { uriHost, type SipMessage } from './message/index.js';
import type { Endpoint, SipTransportKind } from './transport/endpoint.js';

/**
 * The account's server is its registrar and its outbound proxy: every request goes to it. RFC 3261 §8.1.2 makes a
 * configured outbound proxy a pre-loaded route set of one loose-routing URI, so the proxy knows the request is meant
 * to pass through it: `<sip:host:port;lr>` (with the transport when it is not UDP).
 */
export function outboundProxyRoute(server: Endpoint, transport: SipTransportKind): string {
  return `<sip:${uriHost(server.address)}:${server.port}${transport === 'udp' ? '' : `;transport=${transport}`};lr>`;
}

/**
 * A request about to go to the outbound proxy with no Route names the proxy in one, for dialog-creating and in-dialog
 * requests alike (RFC 3261 §8.1.2). Without it, a proxy that did not record-route the dialog (a peer that called the
 * phone straight at its Contact) cannot tell an ACK or BYE from one addressed to itself: Kamailio drops the ACK and
 * answers the BYE "404 Not here". A request that has a route set already (the dialog's Record-Route, whose first
 * entry is the proxy that record-routed it) keeps it as it is.
 */
export function preloadOutboundRoute(request: SipMessage, route: string): void {
  if (request.kind !== 'request' || request.has('route')) return;
  request.prepend('route', route);
}
