import path from 'node:path';
import { HouseholdError } from '../../core/household/household-error.js';
import { buildingOf, parseHouseholdNumber } from '../../core/household/household-number.js';
import type { SipTap } from '../../core/sip/transport/message-tap.js';
import type { SipSockets } from '../../core/sip/transport/sip-sockets.js';
import type { SipTimerValues } from '../../core/sip/transport/udp-retransmitter.js';
import type { SipRequest, SipUri } from '../../core/sip/message/index.js';
import type { ProxyHooks, RouteDecision } from '../sip-server/sip-proxy.js';
import type { AddressDatabaseSnapshot } from './address-database.js';
import { Gatekeeper, type GatekeeperSnapshot } from './gatekeeper.js';
import { ManagementClient } from './management-client.js';
import { ManagementServer, type ManagementCounters } from './management-server.js';
import { RoomGateway, type RoomGatewaySnapshot } from './room-gateway.js';

export interface HouseholdNetworkOptions {
  /** Rooms (`area-building-room`) of one building and how many addresses each gets at first, its gateway's included. */
  rooms: Record<string, number>;
  /** The building's SIP domain (default `household.lab`). */
  domain?: string;
  /** The building's private addresses; loopback ones in the embedded lab (default 127.77.0.1-127.77.3.254). */
  pool?: { first: string; last: string };
  /** The lab's data dir: the management server keeps its database there (`household.json`). */
  dataDir?: string;
  /** The network outside the building (the lab's own proxy). */
  outside: { domain: string; address: string; port: number };
  timers?: SipTimerValues;
  tap?: SipTap;
  sockets?: SipSockets;
}

export interface HouseholdNetworkSnapshot {
  domain: string;
  building: string;
  management: AddressDatabaseSnapshot & { url: string; counters: ManagementCounters };
  gatekeeper: GatekeeperSnapshot;
  gateways: Record<string, RoomGatewaySnapshot & { vacated: boolean }>;
}

export const DEFAULT_HOUSEHOLD_POOL = { first: '127.77.0.1', last: '127.77.3.254' };
export const DEFAULT_HOUSEHOLD_DOMAIN = 'household.lab';

/**
 * One building of seed 001 Fig. 1 in the embedded lab: the management server (Fig. 5), the gatekeeper (Fig. 4) and a
 * gateway per room (Fig. 3), each on its own loopback address; terminals are phones that ask a room gateway for their
 * address and number (core/phone/household-phone.ts).
 */
export class HouseholdNetwork {
  private constructor(
    readonly domain: string,
    readonly building: string,
    readonly management: ManagementServer,
    readonly gatekeeper: Gatekeeper,
    private readonly gateways: Map<string, RoomGateway>,
  ) {}

  static async start(options: HouseholdNetworkOptions): Promise<HouseholdNetwork> {
    const rooms = Object.keys(options.rooms);
    if (rooms.length === 0) throw new HouseholdError('BAD_MESSAGE', 'a household lab needs at least one room');
    const buildings = new Set(rooms.map((r) => buildingOf(parseHouseholdNumber(r))));
    if (buildings.size !== 1) throw new HouseholdError('BAD_MESSAGE', `the rooms must be of one building (area-building), got ${[...buildings].join(', ')}`);
    const building = [...buildings][0]!;
    const domain = options.domain ?? DEFAULT_HOUSEHOLD_DOMAIN;
    const common = { ...(options.timers ? { timers: options.timers } : {}), ...(options.tap ? { tap: options.tap } : {}), ...(options.sockets ? { sockets: options.sockets } : {}) };
    const management = await ManagementServer.start({
      pool: options.pool ?? DEFAULT_HOUSEHOLD_POOL,
      rooms: options.rooms,
      ...(options.dataDir !== undefined ? { file: path.join(options.dataDir, 'household.json') } : {}),
    });
    let gatekeeper: Gatekeeper | undefined;
    const gateways = new Map<string, RoomGateway>();
    try {
      gatekeeper = await Gatekeeper.start({ building, domain, database: management.database, outside: options.outside, ...common });
      const client = new ManagementClient(management.url);
      for (const room of rooms) {
        gateways.set(room, await RoomGateway.start({ room, management: client, domain, gatekeeper: gatekeeper.endpoint, ...common }));
      }
      return new HouseholdNetwork(domain, building, management, gatekeeper, gateways);
    } catch (error) {
      await Promise.allSettled([...gateways.values()].map((g) => g.stop()));
      await Promise.allSettled([gatekeeper?.stop(), management.stop()]);
      throw error;
    }
  }

  rooms(): string[] {
    return [...this.gateways.keys()];
  }

  /** The room's gateway; UNKNOWN_ROOM when the building has no such room. */
  gateway(room: string): RoomGateway {
    const gateway = this.gateways.get(room);
    if (!gateway) throw new HouseholdError('UNKNOWN_ROOM', `no room ${room.slice(0, 40)} in building ${this.building}`);
    return gateway;
  }

  /** Fig. 11: the room is vacated; its gateway gives back every address. */
  vacate(room: string): Promise<string[]> {
    return this.gateway(room).vacate();
  }

  /** Whether a number is one of this building's (the lab's proxy relays those to the gatekeeper). */
  isBuildingNumber(user: string | undefined): boolean {
    if (user === undefined) return false;
    try {
      return buildingOf(parseHouseholdNumber(user)) === this.building;
    } catch {
      return false;
    }
  }

  snapshot(): HouseholdNetworkSnapshot {
    return {
      domain: this.domain,
      building: this.building,
      management: { ...this.management.snapshot(), url: this.management.url },
      gatekeeper: this.gatekeeper.snapshot(),
      gateways: Object.fromEntries([...this.gateways].map(([room, g]) => [room, { ...g.snapshot(), vacated: g.isVacated }])),
    };
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.gateways.values()].map((g) => g.stop()));
    await Promise.allSettled([this.gatekeeper.stop(), this.management.stop()]);
  }
}

/**
 * The outside network's side of the peering (¶[46]: the building's gatekeeper works with an external one): the lab
 * proxy relays a call for one of the building's numbers, whatever host its caller wrote, to the gatekeeper. Set
 * `network` once the building runs; until then (and for other numbers) the proxy routes as usual.
 */
export class HouseholdPeering implements ProxyHooks {
  network: HouseholdNetwork | undefined;

  onRoute(_request: SipRequest, ruri: SipUri): RouteDecision | undefined {
    const network = this.network;
    if (!network || !network.isBuildingNumber(ruri.user)) return undefined;
    const { address, port } = network.gatekeeper.endpoint;
    const { port: _port, ...rest } = ruri;
    return { hop: { transport: 'udp', remote: { address, port } }, uri: { ...rest, host: network.domain, params: [] } };
  }
}
