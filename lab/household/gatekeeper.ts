import { buildingOf, parseHouseholdNumber, roomNumber, type HouseholdNumber } from '../../core/household/household-number.js';
import { formatNameAddr, getParam, parseVia, type SipRequest, type SipUri } from '../../core/sip/message/index.js';
import type { SipTap } from '../../core/sip/transport/message-tap.js';
import type { SipSockets } from '../../core/sip/transport/sip-sockets.js';
import type { SipTimerValues } from '../../core/sip/transport/udp-retransmitter.js';
import type { Hop } from '../sip-server/server-transports.js';
import { SipLabServer } from '../sip-server/sip-lab-server.js';
import type { ForwardContext, ProxyHooks, RouteDecision } from '../sip-server/sip-proxy.js';
import type { AddressDatabase } from './address-database.js';
import { RoomHiding, type RoomHidingCounters } from './room-hiding.js';

export interface GatekeeperOptions {
  /** The building's prefix `area-building` (¶[55]): numbers under it are the building's. */
  building: string;
  /** The building's SIP domain. */
  domain: string;
  /** The management server's database: where each room's gateway is, and which number each private address has. */
  database: AddressDatabase;
  /** The outside network the building peers with (¶[46]: "works together with an external gatekeeper"). */
  outside: { domain: string; address: string; port: number };
  /** The gatekeeper's (public) address and SIP port (0: a free one). */
  address?: string;
  sipPort?: number;
  /** The public address the NAT puts on what leaves the building (¶[42]); the gatekeeper's own by default. */
  publicAddress?: string;
  /**
   * Hide the rooms from the outside (room-hiding.ts): no private address in the Vias, Record-Route, Contact or SDP of
   * what leaves the building. For a building behind a real NAT (the kernel's, in network namespaces); the embedded lab
   * has none to carry the RTP to the public address, so there it is off.
   */
  hideRooms?: boolean;
  timers?: SipTimerValues;
  tap?: SipTap;
  sockets?: SipSockets;
}

export interface GatekeeperSnapshot {
  address: string;
  port: number;
  building: string;
  domain: string;
  publicAddress: string;
  /** ¶[42], ¶[87]: the private address behind each number, and the public address it goes out as. */
  translations: Array<{ number: string; privateAddress: string; publicAddress: string }>;
  counters: { inbound: number; outbound: number; internal: number; asserted: number; unknownCaller: number; refused: number };
  /** With `hideRooms`: what was taken off and put back. */
  hiding?: RoomHidingCounters;
}

/**
 * The building's gatekeeper with its NAT (seed 001 Fig. 4, Fig. 13): a call for one of the building's numbers is
 * relayed to its room's gateway (steps 135-136, ¶[57]-[58]); a call from a room to a number outside goes to the outside
 * network (steps 131-134) with the caller's full number asserted from the private address it came from (¶[55]:
 * `P-Asserted-Identity` and the From the callee's caller ID shows), whatever the terminal itself claimed.
 */
export class Gatekeeper {
  private readonly counters: GatekeeperSnapshot['counters'] = { inbound: 0, outbound: 0, internal: 0, asserted: 0, unknownCaller: 0, refused: 0 };
  private readonly hiding: RoomHiding | undefined;

  private constructor(
    private readonly options: GatekeeperOptions,
    readonly sip: SipLabServer,
  ) {
    if (options.hideRooms) {
      this.hiding = new RoomHiding(
        () => ({ address: this.publicAddress, port: this.endpoint.port }),
        (host, port) => (host === this.sip.address || host === this.publicAddress) && (port ?? 5060) === this.endpoint.port,
      );
    }
  }

  static async start(options: GatekeeperOptions): Promise<Gatekeeper> {
    const hooks: ProxyHooks = {
      onArrive: (request, inbound) => {
        if (self.hiding && !self.fromRoom(inbound)) self.hiding.inboundRequest(request);
      },
      onRoute: (request, ruri, inbound) => self.route(request, ruri, inbound),
      onForwardRequest: (request, context) => {
        self.assert(request, context);
        if (self.hiding && !self.fromRoom(context.outbound)) self.hiding.outwardRequest(request, context.recordRoutes ?? 0);
      },
      onForwardResponse: (response, context) => {
        const hiding = self.hiding;
        if (!hiding) return;
        if (!context) {
          // a 2xx retransmission forwarded along its Via: out of the building unless the next Via is a room's
          const next = response.topVia;
          if (next && !self.fromRoom({ transport: 'udp', remote: { address: next.host, port: next.port ?? 5060 } })) hiding.outwardResponse(response);
          return;
        }
        if (!self.fromRoom(context.inbound)) hiding.outwardResponse(response);
        else if (!self.fromRoom(context.outbound)) hiding.inwardResponse(response, context.original);
      },
    };
    const sip = await SipLabServer.start({
      address: options.address ?? '127.0.0.1',
      udp: options.sipPort ?? 0,
      domains: [options.domain],
      peers: { [options.outside.domain]: { address: options.outside.address, port: options.outside.port, transport: 'udp' } },
      hooks,
      ...(options.timers ? { timers: options.timers } : {}),
      ...(options.tap ? { tap: options.tap } : {}),
      ...(options.sockets ? { sockets: options.sockets } : {}),
    });
    const self = new Gatekeeper(options, sip);
    return self;
  }

  get endpoint(): { address: string; port: number } {
    return { address: this.sip.address, port: this.sip.ports.udp! };
  }

  get publicAddress(): string {
    return this.options.publicAddress ?? this.sip.address;
  }

  snapshot(): GatekeeperSnapshot {
    const rooms = this.options.database.snapshot().rooms;
    const translations = Object.values(rooms).flatMap((room) => room.addresses.filter((a) => a.state !== 'free').map((a) => ({ number: a.number, privateAddress: a.address, publicAddress: this.publicAddress })));
    return { ...this.endpoint, building: this.options.building, domain: this.options.domain, publicAddress: this.publicAddress, translations, counters: { ...this.counters }, ...(this.hiding ? { hiding: { ...this.hiding.counters } } : {}) };
  }

  stop(): Promise<void> {
    return this.sip.stop();
  }

  /** Whether a request came from one of the building's room gateways (their first addresses). */
  private fromRoom(inbound: Hop): boolean {
    const rooms = this.options.database.snapshot().rooms;
    return Object.values(rooms).some((r) => r.sip === `${inbound.remote.address}:${inbound.remote.port}`);
  }

  private route(request: SipRequest, ruri: SipUri, inbound: Hop): RouteDecision | undefined {
    const number = this.buildingNumber(ruri.user);
    const fromRoom = this.fromRoom(inbound);
    if (number) {
      // Fig. 13 steps 135-136: the number's room gateway (its first private address, ¶[57])
      const room = roomNumber(number);
      const record = this.options.database.snapshot().rooms[room];
      if (!record?.sip) {
        this.counters.refused++;
        return { status: record ? 480 : 404, reason: record ? `Temporarily Unavailable (room ${room} has no gateway now)` : `Not Found (no room ${room})` };
      }
      const [address, port] = [record.sip.slice(0, record.sip.lastIndexOf(':')), Number(record.sip.slice(record.sip.lastIndexOf(':') + 1))];
      if (fromRoom) this.counters.internal++;
      else this.counters.inbound++;
      return { hop: { transport: 'udp', remote: { address, port } }, uri: { ...ruri, host: this.options.domain, params: [] } };
    }
    if (!fromRoom) return undefined; // the proxy's own routing: our domain's registrar, or a peer
    // Fig. 13 steps 131-134: out of the building, to the outside network (the Request-URI names its domain)
    this.counters.outbound++;
    const outside = this.options.outside;
    const { port: _port, ...rest } = ruri;
    const host = outside.domain;
    return { hop: { transport: 'udp', remote: { address: outside.address, port: outside.port } }, uri: { ...rest, host, ...(outside.domain === outside.address ? { port: outside.port } : {}) } };
  }

  /** ¶[55]: the caller's full number, from the private address its call came from, on what leaves the building. */
  private assert(request: SipRequest, context: ForwardContext): void {
    if (request.method !== 'INVITE' || !this.fromRoom(context.inbound)) return;
    const vias = request.getAll('via');
    // the bottom Via is the terminal's, stamped with the address its packets really came from (RFC 3581 received)
    const bottom = vias[vias.length - 1];
    let address: string | undefined;
    try {
      const via = bottom !== undefined ? parseVia(bottom) : undefined;
      address = via ? (getParam(via.params, 'received') ?? via.host) : undefined;
    } catch {
      address = undefined;
    }
    const caller = address !== undefined ? this.options.database.numberOf(address) : undefined;
    if (!caller || caller.index === 0) {
      this.counters.unknownCaller++;
      request.remove('p-asserted-identity');
      return;
    }
    const identity = `<sip:${caller.number}@${this.options.domain}>`;
    request.set('p-asserted-identity', identity);
    const from = request.from;
    request.set('from', formatNameAddr({ uri: { scheme: 'sip', user: caller.number, host: this.options.domain, params: [] }, params: from.params }));
    this.counters.asserted++;
  }

  private buildingNumber(user: string | undefined): HouseholdNumber | undefined {
    if (user === undefined) return undefined;
    try {
      const number = parseHouseholdNumber(user);
      return buildingOf(number) === this.options.building ? number : undefined;
    } catch {
      return undefined;
    }
  }
}
