import { HouseholdError } from '../../core/household/household-error.js';
import { parseHouseholdNumber, ringsWholeRoom, roomNumber, terminalNumber, type HouseholdNumber } from '../../core/household/household-number.js';
import { createResponse, randomToken, type SipRequest, type SipUri } from '../../core/sip/message/index.js';
import type { SipTap } from '../../core/sip/transport/message-tap.js';
import type { SipSockets } from '../../core/sip/transport/sip-sockets.js';
import type { SipTimerValues } from '../../core/sip/transport/udp-retransmitter.js';
import type { Hop } from '../sip-server/server-transports.js';
import { SipLabServer, type SipLabServerSnapshot } from '../sip-server/sip-lab-server.js';
import type { ProxyHooks, RouteDecision } from '../sip-server/sip-proxy.js';
import type { ManagementClient } from './management-client.js';
import { RoomAllotment, type TerminalAllotment } from './room-allotment.js';
import { RoomDhcpServer, type RoomDhcpCounters } from './room-dhcp.js';

export interface RoomGatewayOptions {
  /** The room's number `area-building-room`. */
  room: string;
  management: ManagementClient;
  /** The building's SIP domain: the host of every household number's URI. */
  domain: string;
  /** The gatekeeper's SIP address (¶[55]-[56]: every call that leaves the room goes there). */
  gatekeeper: { address: string; port: number };
  /** SIP port on the gateway's first address (0: a free one, the lab). */
  sipPort?: number;
  /** Where the allocation service listens: the first address and a free port by default; `0.0.0.0:67` on a real link. */
  dhcpBind?: { address: string; port: number };
  subnetMask?: string;
  /** Puts the first address on the gateway's link before anything binds to it (a real link); nothing in the lab. */
  takeAddress?: (address: string) => Promise<void>;
  timers?: SipTimerValues;
  tap?: SipTap;
  sockets?: SipSockets;
}

export interface RoomGatewaySnapshot {
  room: string;
  /** The gateway's own: the room's first address and number `-0` (¶[57]). */
  address: string;
  number: string;
  sip: { address: string; port: number };
  dhcp: { address: string; port: number };
  terminals: Array<Pick<TerminalAllotment, 'number' | 'address' | 'client'>>;
  free: string[];
  /** Reports to the management server that failed (the next change sends the whole state again). */
  failedReports: number;
  dhcpCounters: RoomDhcpCounters;
  registrar: SipLabServerSnapshot['bindings'];
  /** Calls forked to the whole room (ring-all) and relayed to one terminal (ring-one). */
  calls: { ringAll: number; ringOne: number; out: number };
}

/**
 * A room's gateway (seed 001 Fig. 3, Figs. 9-12): it takes the room's first address from the management server and
 * number `-0`, deals the other addresses to its terminals over DHCP, asks for more when none is left and reports every
 * change; for SIP it is the room's registrar and relay: a call to the room or `-0` forks to every registered terminal,
 * one to `-N` goes to terminal N, everything else goes to the gatekeeper.
 */
export class RoomGateway {
  private reports: Promise<void> = Promise.resolve();
  private failedReports = 0;
  private readonly calls = { ringAll: 0, ringOne: 0, out: 0 };
  private vacated = false;

  private constructor(
    private readonly options: RoomGatewayOptions,
    readonly allotment: RoomAllotment,
    readonly address: string,
    private sip: SipLabServer | undefined,
    private dhcp: RoomDhcpServer | undefined,
  ) {}

  /** Fig. 9 steps 91, 96-98: without a first address, ask for the room's addresses and take the first. */
  static async start(options: RoomGatewayOptions): Promise<RoomGateway> {
    const parsed = parseHouseholdNumber(options.room);
    if (parsed.terminal !== undefined) throw new HouseholdError('BAD_NUMBER', `${options.room} is a terminal's number, not a room's`);
    const allotment = new RoomAllotment(options.room);
    const { all, terminals } = await options.management.allocate(options.room);
    allotment.add(all);
    allotment.restore(terminals ?? {});
    const first = all[0];
    if (first === undefined) throw new HouseholdError('NO_ALLOCATION', `the management server gave room ${options.room} no address`);
    await options.takeAddress?.(first);
    const gateway = new RoomGateway(options, allotment, first, undefined, undefined);
    try {
      gateway.sip = await SipLabServer.start({
        address: first,
        udp: options.sipPort ?? 0,
        domains: [options.domain],
        hooks: gateway.hooks(),
        ...(options.timers ? { timers: options.timers } : {}),
        ...(options.tap ? { tap: options.tap } : {}),
        ...(options.sockets ? { sockets: options.sockets } : {}),
      });
      gateway.dhcp = await RoomDhcpServer.start({
        allotment,
        serverId: first,
        ...(options.dhcpBind ? { bind: options.dhcpBind } : {}),
        ...(options.subnetMask ? { subnetMask: options.subnetMask } : {}),
        sip: { address: first, port: gateway.sip.ports.udp! },
        domain: options.domain,
        // Fig. 10 step 102: one more address from the management server
        needMore: async () => allotment.add((await options.management.allocate(options.room, 1)).addresses),
        changed: () => void gateway.report(),
      });
    } catch (error) {
      await Promise.allSettled([gateway.sip?.stop(), gateway.dhcp?.stop()]);
      throw error;
    }
    await gateway.report();
    return gateway;
  }

  get room(): string {
    return this.options.room;
  }

  get number(): string {
    return terminalNumber(this.options.room, 0);
  }

  get sipEndpoint(): { address: string; port: number } {
    return { address: this.address, port: this.sip?.ports.udp ?? 0 };
  }

  get dhcpEndpoint(): { address: string; port: number } {
    return this.dhcp?.endpoint ?? { address: this.address, port: 0 };
  }

  get isVacated(): boolean {
    return this.vacated;
  }

  /** Fig. 12 step 122: the room as it is now, to the management server; reports go one at a time, in order. */
  report(): Promise<void> {
    if (this.vacated) return this.reports;
    const terminals = this.allotment.bound().map((a) => ({ address: a.address, client: a.client }));
    const report = { terminals, sip: this.sipEndpoint, dhcp: this.dhcpEndpoint };
    this.reports = this.reports.then(() =>
      this.options.management.report(this.options.room, report).catch(() => {
        this.failedReports++;
      }),
    );
    return this.reports;
  }

  /**
   * Fig. 11 (¶[62]-[63]): the room is vacated: the gateway stops serving, sends the deletion request of every address
   * the room had and keeps none. Returns the addresses given back.
   */
  async vacate(): Promise<string[]> {
    if (this.vacated) return [];
    this.vacated = true;
    await this.reports;
    await Promise.allSettled([this.sip?.stop(), this.dhcp?.stop()]);
    const all = [...this.allotment.addresses];
    const freed = await this.options.management.release(this.options.room, all);
    this.allotment.clear();
    return freed;
  }

  snapshot(): RoomGatewaySnapshot {
    return {
      room: this.options.room,
      address: this.address,
      number: this.number,
      sip: this.sipEndpoint,
      dhcp: this.dhcpEndpoint,
      terminals: this.allotment.bound().map(({ number, address, client }) => ({ number, address, client })),
      free: this.allotment.unallotted(),
      failedReports: this.failedReports,
      dhcpCounters: structuredClone(this.dhcp?.counters ?? { received: {}, replies: {}, ignored: {}, rejected: {}, socketErrors: 0 }),
      registrar: this.sip?.snapshot().bindings ?? [],
      calls: { ...this.calls },
    };
  }

  /** Stop serving without giving anything back (the lab's shutdown; the database keeps the room). */
  async stop(): Promise<void> {
    if (this.vacated) return; // vacate() stopped it already
    await this.reports;
    await Promise.allSettled([this.sip?.stop(), this.dhcp?.stop()]);
  }

  private hooks(): ProxyHooks {
    return {
      onRequest: (request, inbound) => this.screenRegister(request, inbound),
      onRoute: (request, ruri, inbound) => this.route(request, ruri, inbound),
    };
  }

  /** Only the terminal the number was allotted to may register it, from its allotted address (¶[57]). */
  private screenRegister(request: SipRequest, inbound: Hop) {
    if (request.method !== 'REGISTER') return undefined;
    const user = request.to.uri.user ?? '';
    const holder = this.allotment.bound().find((a) => a.number === user);
    if (holder && holder.address === inbound.remote.address) return undefined;
    return createResponse(request, 403, holder ? `Forbidden (${user} is allotted to another address)` : `Forbidden (${user.slice(0, 30)} is not allotted in room ${this.options.room})`, randomToken(10));
  }

  private route(request: SipRequest, ruri: SipUri, inbound: Hop): RouteDecision | undefined {
    let number: HouseholdNumber | undefined;
    try {
      number = parseHouseholdNumber(ruri.user ?? '');
    } catch {
      number = undefined;
    }
    const fromGatekeeper = inbound.remote.address === this.options.gatekeeper.address && inbound.remote.port === this.options.gatekeeper.port;
    if (!number || roomNumber(number) !== this.options.room) {
      // Fig. 9 steps 95/951, ¶[56]: what the room's terminals call outside the room goes to the gatekeeper
      if (fromGatekeeper) return { status: 404, reason: 'Not Found (not a number of this room)' };
      this.calls.out++;
      return { hop: { transport: 'udp', remote: { ...this.options.gatekeeper } } };
    }
    if (ringsWholeRoom(number)) {
      // Fig. 9 steps 953-954, ¶[57]: the room's number or -0 goes to every terminal of the room (but the one calling:
      // an extension that dials its own house rings the others, as an intercom does)
      this.calls.ringAll++;
      return { users: this.allotment.bound().filter((a) => a.address !== inbound.remote.address).map((a) => a.number) };
    }
    // Fig. 9 step 955, ¶[58]: -N goes to terminal N only
    this.calls.ringOne++;
    const user = terminalNumber(this.options.room, number.terminal!);
    if (!this.allotment.bound().some((a) => a.number === user)) return { status: 404, reason: `Not Found (no terminal ${user} in the room)` };
    return { users: [user] };
  }
}
