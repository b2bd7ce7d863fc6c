import { formatNameAddr, formatSipUri, getParam, parseNameAddr, parseSipUri, randomToken, withoutParam, withParam, type SipMessage, type SipRequest, type SipResponse } from '../../core/sip/message/index.js';

/** What the gatekeeper took off messages leaving the building, and put back on what came in. */
export interface RoomHidingCounters {
  /** Lower Vias taken off requests that left (and put back on their responses). */
  vias: number;
  /** Record-Route entries of the rooms taken off, and put back. */
  recordRoutes: number;
  contacts: number;
  sdp: number;
  /** In-dialog requests from outside whose Route and Request-URI were put back. */
  restored: number;
  /** A token from outside that named nothing (expired, forged): left as it was, the request goes nowhere inside. */
  unknownTokens: number;
}

/** Tokens kept at most: the oldest are forgotten first (a dialog older than this many calls loses its way back). */
const maxTokens = 20_000;
const routeParam = 'vp-rooms';
const contactParam = 'vp-contact';

/**
 * The gatekeeper's NAT for signalling (seed 001 ¶[42], ¶[87], Fig. 4: the outside sees the building's public address,
 * never a room's private one). On what leaves the building it takes off what names a room: the Vias below its own
 * (put back on the response from the request as it arrived), the rooms' Record-Route entries (kept under a token in a
 * parameter of its own entry), the terminal's Contact (replaced by a URI at the public address with a token) and the
 * SDP connection and origin addresses (the public address: the kernel's NAT carries the RTP, and the far end latches
 * onto where it really comes from, RFC 4961). Requests coming back in get their Route entries and Request-URI put back
 * from the tokens (as Kamailio's topoh does, but with the private parts kept here, not encoded in the token).
 */
export class RoomHiding {
  readonly counters: RoomHidingCounters = { vias: 0, recordRoutes: 0, contacts: 0, sdp: 0, restored: 0, unknownTokens: 0 };
  private readonly tokens = new Map<string, string[]>();

  constructor(
    /** The public address and the gatekeeper's SIP port on it: what the outside reaches. */
    private readonly publicSide: () => { address: string; port: number },
    /** Whether a Route/Record-Route URI is the gatekeeper's own. */
    private readonly isOurs: (host: string, port: number | undefined) => boolean,
  ) {}

  /** A request about to leave the building (after our Via and Record-Route were put on). */
  outwardRequest(request: SipRequest, recordRoutes: number): void {
    const vias = request.getAll('via');
    if (vias.length > 1) {
      request.replaceAll('via', vias.slice(0, 1)); // ours; the rest come back from the request as it arrived
      this.counters.vias += vias.length - 1;
    }
    if (recordRoutes > 0) {
      const entries = request.getAll('record-route');
      const rooms = entries.slice(recordRoutes);
      // the callee's route set takes them in this order after ours (RFC 3261 §12.1.1)
      if (rooms.length > 0) request.replaceAll('record-route', this.tagged(entries.slice(0, recordRoutes), rooms));
    }
    this.hideContactAndSdp(request);
  }

  /** A response about to leave the building: the rooms' Record-Route entries above ours, the Contact and the SDP. */
  outwardResponse(response: SipResponse): void {
    const entries = response.getAll('record-route');
    const first = entries.findIndex((entry) => this.entryIsOurs(entry));
    if (first > 0) {
      let last = first;
      while (last + 1 < entries.length && this.entryIsOurs(entries[last + 1]!)) last++;
      const ours = entries.slice(first, last + 1);
      // the caller's route set is the Record-Route read the other way (RFC 3261 §12.1.2): kept in that order
      response.replaceAll('record-route', [...this.tagged(ours, entries.slice(0, first).reverse()), ...entries.slice(last + 1)]);
    }
    this.hideContactAndSdp(response);
  }

  /** A response coming back in to a request that left: its Vias and the rooms' Record-Route entries put back. */
  inwardResponse(response: SipResponse, original: SipRequest): void {
    response.replaceAll('via', original.getAll('via'));
    const entries = response.getAll('record-route');
    if (entries.length === 0) return;
    const restored: string[] = [];
    for (const entry of entries) {
      restored.push(entry);
      const hidden = this.hiddenBehind(entry);
      if (hidden) restored.push(...hidden);
    }
    if (restored.length !== entries.length) response.replaceAll('record-route', restored);
  }

  /** A request from outside, as it arrived: the rooms' Route entries and the terminal's Contact as Request-URI put back. */
  inboundRequest(request: SipRequest): void {
    const routes = request.getAll('route');
    const restored: string[] = [];
    for (const entry of routes) {
      restored.push(entry);
      const hidden = this.hiddenBehind(entry);
      if (hidden) restored.push(...hidden); // kept in route-set order
    }
    if (restored.length !== routes.length) {
      request.replaceAll('route', restored);
      this.counters.restored++;
    }
    let ruri;
    try {
      ruri = parseSipUri(request.uri);
    } catch {
      return;
    }
    const token = getParam(ruri.params, contactParam);
    if (token === undefined) return;
    const contact = this.tokens.get(token);
    if (!contact) {
      this.counters.unknownTokens++;
      return;
    }
    request.uri = contact[0]!;
    this.counters.restored++;
  }

  /** Our Record-Route entries with a token for the rooms' entries, kept in the order a route set takes them after ours. */
  private tagged(ours: string[], rooms: string[]): string[] {
    const token = this.keep(rooms);
    this.counters.recordRoutes += rooms.length;
    return ours.map((entry) => {
      const value = parseNameAddr(entry);
      return formatNameAddr({ ...value, uri: { ...value.uri, params: withParam(withoutParam(value.uri.params, routeParam), routeParam, token) } });
    });
  }

  private hiddenBehind(entry: string): string[] | undefined {
    let value;
    try {
      value = parseNameAddr(entry);
    } catch {
      return undefined;
    }
    const token = getParam(value.uri.params, routeParam);
    if (token === undefined || !this.isOurs(value.uri.host, value.uri.port)) return undefined;
    const hidden = this.tokens.get(token);
    if (!hidden) this.counters.unknownTokens++;
    return hidden;
  }

  private entryIsOurs(entry: string): boolean {
    try {
      const uri = parseNameAddr(entry).uri;
      return this.isOurs(uri.host, uri.port);
    } catch {
      return false;
    }
  }

  private hideContactAndSdp(message: SipMessage): void {
    const { address, port } = this.publicSide();
    const contacts = message.getAll('contact');
    if (contacts.length > 0 && contacts[0] !== '*') {
      message.replaceAll(
        'contact',
        contacts.map((contact) => {
          let value;
          try {
            value = parseNameAddr(contact);
          } catch {
            return contact;
          }
          if (this.isOurs(value.uri.host, value.uri.port)) return contact;
          this.counters.contacts++;
          const token = this.keep([formatSipUri(value.uri)]);
          const uri = { scheme: value.uri.scheme, ...(value.uri.user !== undefined ? { user: value.uri.user } : {}), host: address, port, params: [{ name: 'transport', value: 'udp' }, { name: contactParam, value: token }] };
          return formatNameAddr({ ...value, uri });
        }),
      );
    }
    if (message.body !== '' && /^application\/sdp/i.test(message.get('content-type') ?? '')) {
      // RFC 4566 §5.2, §5.7: the origin's and the connection's unicast address become the public one
      const body = message.body.replace(/^(o=\S+ \S+ \S+ IN IP4 )\S+/gm, `$1${address}`).replace(/^(c=IN IP4 )\S+/gm, `$1${address}`);
      if (body !== message.body) {
        message.body = body;
        this.counters.sdp++;
      }
    }
  }

  private keep(values: string[]): string {
    const token = randomToken(16);
    this.tokens.set(token, values);
    if (this.tokens.size > maxTokens) this.tokens.delete(this.tokens.keys().next().value!);
    return token;
  }
}
