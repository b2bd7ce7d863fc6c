import type dgram from 'node:dgram';
import { decodeDhcpMessage, dhcpMessage, encodeDhcpMessage, type DhcpMessage } from '../../core/lease/dhcp-message.js';
import type { DhcpMessageType, DhcpOptions, MgcAddress } from '../../core/lease/dhcp-options.js';
import { countReject, LeaseError, type RejectCounters } from '../../core/lease/lease-error.js';
import { householdVendorClass } from '../../core/household/household-wire.js';
import { bindUdp } from '../service-gateway/bind-udp.js';
import { clientKey } from '../service-gateway/dhcp-service.js';
import type { RoomAllotment, TerminalAllotment } from './room-allotment.js';

export interface RoomDhcpOptions {
  allotment: RoomAllotment;
  /** The gateway's first address: option 54, the router, where it listens. */
  serverId: string;
  /** Where it listens: the gateway's address (default `serverId`), port 0 picks one (the lab); 67 on a real link. */
  bind?: { address: string; port: number };
  subnetMask?: string;
  /** The gateway's SIP address: the terminal's registrar and relay (option 225). */
  sip: MgcAddress;
  /** The building's SIP domain, the host of the terminal's address-of-record (option 15). */
  domain?: string;
  leaseSeconds?: number;
  /** Fig. 10 step 102: the room has no address left; resolves once the management server gave more (or rejects). */
  needMore: () => Promise<void>;
  /** Fig. 12 step 122: a terminal took or gave back an address. */
  changed: (change: { kind: 'bound' | 'freed'; allotment: TerminalAllotment }) => void;
}

export interface RoomDhcpCounters {
  received: Partial<Record<DhcpMessageType, number>>;
  replies: Partial<Record<DhcpMessageType, number>>;
  ignored: Record<string, number>;
  rejected: RejectCounters;
  /** Socket errors after bind and replies the socket refused to send (the service keeps serving). */
  socketErrors: number;
}

/** How long an OFFER holds an address (RFC 2131 §4.3.1 leaves it to the server). */
const OFFER_HOLD_MS = 60_000;

/**
 * The room gateway's allocation service (seed 001 Fig. 3 units 352-354 and 363-364, Figs. 10 and 12) in the wire format
 * of docs/household.md: a terminal's allocation request is a DHCPDISCOVER/REQUEST of vendor class
 * `Veilphone-household`, the allocation is the ACK's address with its number in option 227, and its deletion request
 * is a DHCPRELEASE. Replies go back to the sender, or by broadcast to a client that has no address yet.
 */
export class RoomDhcpServer {
  readonly counters: RoomDhcpCounters = { received: {}, replies: {}, ignored: {}, rejected: {}, socketErrors: 0 };
  private queue: Promise<void> = Promise.resolve();
  /** Where it listened (kept: a stopped server still names where it was). */
  readonly endpoint: { address: string; port: number };

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly options: RoomDhcpOptions,
  ) {
    const { address, port } = socket.address();
    this.endpoint = { address, port };
    socket.on('message', (packet, rinfo) => {
      // one message at a time: an allocation that waits for the management server must not race the next one
      this.queue = this.queue.then(() => this.onPacket(packet, rinfo));
    });
    socket.on('error', () => void this.counters.socketErrors++);
  }

  static async start(options: RoomDhcpOptions): Promise<RoomDhcpServer> {
    const bind = options.bind ?? { address: options.serverId, port: 0 };
    const socket = await bindUdp(bind.port, bind.address);
    socket.setBroadcast(true);
    return new RoomDhcpServer(socket, options);
  }

  async stop(): Promise<void> {
    await this.queue;
    await new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  private async onPacket(packet: Buffer, rinfo: dgram.RemoteInfo): Promise<void> {
    let message: DhcpMessage;
    try {
      message = decodeDhcpMessage(packet);
    } catch (error) {
      const e = error instanceof LeaseError ? error : new LeaseError('DHCP_BAD_HEADER', (error as Error).message);
      countReject(this.counters.rejected, e.code);
      return;
    }
    const type = message.options.messageType!;
    this.counters.received[type] = (this.counters.received[type] ?? 0) + 1;
    let reply: DhcpMessage | string;
    try {
      reply = await this.decide(message);
    } catch (error) {
      reply = `failed: ${(error as Error).message.slice(0, 60)}`;
    }
    if (typeof reply === 'string') {
      this.counters.ignored[reply] = (this.counters.ignored[reply] ?? 0) + 1;
      return;
    }
    const replyType = reply.options.messageType!;
    this.counters.replies[replyType] = (this.counters.replies[replyType] ?? 0) + 1;
    // RFC 2131 §4.1: a client without an address yet is answered by broadcast
    const to = rinfo.address === '0.0.0.0' ? { address: '255.255.255.255', port: 68 } : { address: rinfo.address, port: rinfo.port };
    this.socket.send(encodeDhcpMessage(reply), to.port, to.address, (error) => {
      if (error) this.counters.socketErrors++;
    });
  }

  /** A reply, or why the message is ignored. */
  private async decide(message: DhcpMessage): Promise<DhcpMessage | string> {
    if (message.op !== 1) return 'not a BOOTREQUEST';
    const key = clientKey(message);
    const room = this.options.allotment;
    const o = message.options;
    switch (o.messageType) {
      case 'DISCOVER': {
        if (o.vendorClass !== householdVendorClass) return `vendor class "${o.vendorClass ?? ''}" is not a household terminal`;
        let offer = room.offer(key, OFFER_HOLD_MS, o.requestedAddress);
        if (!offer) {
          // Fig. 10 step 101 → 102: none yet to be allotted; ask the management server, then deal again
          try {
            await this.options.needMore();
          } catch {
            return 'room full';
          }
          offer = room.offer(key, OFFER_HOLD_MS, o.requestedAddress);
          if (!offer) return 'room full';
        }
        return this.reply(message, 'OFFER', offer);
      }
      case 'REQUEST': {
        if (o.vendorClass !== householdVendorClass) return `vendor class "${o.vendorClass ?? ''}" is not a household terminal`;
        if (o.serverId !== undefined && o.serverId !== this.options.serverId) {
          if (room.of(key)?.state === 'offered') room.free(key);
          return `client chose server ${o.serverId}`;
        }
        const wanted = message.ciaddr !== '0.0.0.0' ? message.ciaddr : o.requestedAddress;
        let held = room.of(key);
        // INIT-REBOOT (RFC 2131 §3.2): a terminal asking for the address it stored gets it back if nobody holds it
        if (!held && o.serverId === undefined && wanted !== undefined && room.addresses.indexOf(wanted) > 0 && !room.holderOf(wanted)) held = room.offer(key, OFFER_HOLD_MS, wanted);
        if (!held || held.address !== wanted) return this.nak(message, held ? `${wanted} is not yours` : 'no allocation for this terminal');
        const wasBound = held.state === 'bound';
        const bound = room.bind(key)!;
        if (!wasBound) this.options.changed({ kind: 'bound', allotment: bound });
        return this.reply(message, 'ACK', bound);
      }
      case 'RELEASE': {
        // Fig. 8 step 84 / Fig. 12 step 121: the deletion request
        const held = room.of(key);
        if (!held || held.address !== message.ciaddr) return 'RELEASE for an address this terminal does not hold';
        const freed = room.free(key)!;
        this.options.changed({ kind: 'freed', allotment: freed });
        return 'released';
      }
      case 'DECLINE':
        room.free(key);
        return 'DECLINE';
      default:
        return `${o.messageType} is not served`;
    }
  }

  private reply(request: DhcpMessage, type: 'OFFER' | 'ACK', allotment: TerminalAllotment): DhcpMessage {
    const o = this.options;
    const options: DhcpOptions = {
      messageType: type,
      serverId: o.serverId,
      leaseTime: o.leaseSeconds ?? 3600,
      ...(o.subnetMask !== undefined ? { subnetMask: o.subnetMask } : {}),
      routers: [o.serverId],
      // the whole port space of its own address is the terminal's (seed 001 gives ports no part)
      portRange: { min: 1024, max: 65535 },
      mgc: [o.sip],
      ...(o.domain !== undefined ? { domainName: o.domain } : {}),
      householdNumber: allotment.number,
    };
    return dhcpMessage({ op: 2, xid: request.xid, chaddr: request.chaddr, flags: request.flags, giaddr: request.giaddr, yiaddr: allotment.address, options });
  }

  private nak(request: DhcpMessage, why: string): DhcpMessage {
    return dhcpMessage({ op: 2, xid: request.xid, chaddr: request.chaddr, flags: request.flags, giaddr: request.giaddr, options: { messageType: 'NAK', serverId: this.options.serverId, message: why } });
  }
}
