import { formatEndpoint } from '../../core/sip/transport/endpoint.js';
import { getParam, parseNameAddr, parseVia, withParam, formatVia, type SipRequest, type SipResponse, type SipUri } from '../../core/sip/message/index.js';
import type { Inbound } from '../sip-server/server-transports.js';
import { onLink, type TrustedLink } from './link-trust.js';

/**
 * Fault injection for scenarios (`tamper:`): an element on the link between a phone and the proxy that forges
 * routing headers the way seed 002 ¶[0004] and ¶[0012] describe — every forgery points at 127.0.0.1:9 (the
 * discard port on loopback), the "victim", so a proxy that let one through would only ever send there.
 * - `via`: a response's Vias below the proxy's are rewritten to send it to the victim (`received`/`rport`);
 * - `record_route`: a response gets an extra Record-Route entry below the proxy's (a detour for the caller's route);
 * - `route_set`: an in-dialog request gets an extra Route entry after the proxy's (a detour for the rest of it);
 * - `replay`: an in-dialog request gets the Route set that the same phone used in an earlier dialog.
 * With `links`, only what arrives over those links is forged (one phone's link: a third-party phone's messages alone).
 */
export type TamperKind = 'via' | 'record_route' | 'route_set' | 'replay';

const victim = '127.0.0.1';
const victimPort = '9';

export class Tamperer {
  /** Messages altered so far. */
  altered = 0;
  private readonly routeSets = new Map<string, { callId: string; routes: string[] }>();

  constructor(
    readonly kind: TamperKind,
    private readonly isOurs: (uri: SipUri) => boolean,
    /** The links to forge on; every link when absent. */
    readonly links?: readonly TrustedLink[],
  ) {}

  /** Alter a message arriving from a phone, in place, before the proxy sees it. */
  apply(inbound: Inbound): void {
    if (this.links && !this.links.some((link) => onLink(link, inbound.hop))) return;
    const message = inbound.message;
    const done = message.kind === 'response' ? this.response(message) : this.request(message, formatEndpoint(inbound.hop.remote));
    if (done) this.altered++;
  }

  private response(response: SipResponse): boolean {
    if (response.status === 100) return false;
    if (this.kind === 'via') {
      const vias = response.getAll('via');
      if (vias.length < 2) return false;
      const below = parseVia(vias[1]!);
      vias[1] = formatVia({ ...below, params: withParam(withParam(below.params, 'received', victim), 'rport', victimPort) });
      response.replaceAll('via', vias);
      return true;
    }
    if (this.kind === 'record_route') {
      const entries = response.getAll('record-route');
      const last = lastOwn(entries, this.isOurs);
      if (last < 0) return false;
      entries.splice(last + 1, 0, `<sip:${victim}:${victimPort};lr>`);
      response.replaceAll('record-route', entries);
      return true;
    }
    return false;
  }

  private request(request: SipRequest, source: string): boolean {
    if (getParam(request.to.params, 'tag') === undefined || request.method === 'CANCEL') return false;
    const routes = request.getAll('route');
    const own = leadingOwn(routes, this.isOurs);
    if (own === 0) return false;
    if (this.kind === 'route_set') {
      routes.splice(own, 0, `<sip:${victim}:${victimPort};lr>`);
      request.replaceAll('route', routes);
      return true;
    }
    if (this.kind === 'replay') {
      const earlier = this.routeSets.get(source);
      if (!earlier) {
        this.routeSets.set(source, { callId: request.callId, routes });
        return false;
      }
      if (earlier.callId === request.callId) return false;
      request.replaceAll('route', earlier.routes);
      return true;
    }
    return false;
  }
}

function safeOurs(text: string, isOurs: (uri: SipUri) => boolean): boolean {
  try {
    return isOurs(parseNameAddr(text).uri);
  } catch {
    return false;
  }
}

function lastOwn(entries: string[], isOurs: (uri: SipUri) => boolean): number {
  for (let i = entries.length - 1; i >= 0; i--) if (safeOurs(entries[i]!, isOurs)) return i;
  return -1;
}

function leadingOwn(routes: string[], isOurs: (uri: SipUri) => boolean): number {
  let count = 0;
  while (count < routes.length && safeOurs(routes[count]!, isOurs)) count++;
  return count;
}
