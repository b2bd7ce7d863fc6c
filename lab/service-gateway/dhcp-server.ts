import type dgram from 'node:dgram';
import { bindUdp } from './bind-udp.js';
import { decodeDhcpMessage, encodeDhcpMessage } from '../../core/lease/dhcp-message.js';
import type { DhcpMessageType } from '../../core/lease/dhcp-options.js';
import { countReject, LeaseError, type LeaseErrorCode, type RejectCounters } from '../../core/lease/lease-error.js';
import { DhcpService, type DhcpServiceOptions, type ServerLease } from './dhcp-service.js';

export interface LabDhcpServerOptions extends DhcpServiceOptions {
  /** Where the server listens (default 127.0.0.1, port 0: a free one). Replies go back to the sender. */
  address?: string;
  port?: number;
}

export type LabDhcpEvent =
  | { type: 'reply'; message: DhcpMessageType; to: string; lease?: ServerLease }
  | { type: 'ignored'; message?: DhcpMessageType; reason: string; from: string }
  | { type: 'rejected'; code: LeaseErrorCode; reason: string; from: string };

export interface LabDhcpCounters {
  received: Partial<Record<DhcpMessageType, number>>;
  replies: Partial<Record<DhcpMessageType, number>>;
  /** Requests ignored on purpose (unknown vendor class or MAC, pool exhausted …), by reason. */
  ignored: Record<string, number>;
  /** Datagrams that are not valid DHCP, by code. */
  rejected: RejectCounters;
}

/**
 * The lab's DHCP server on a UDP socket. It speaks the real wire format; on loopback it answers the sender's own
 * address and port (the lab transport of core/lease), so no root and no broadcast are needed.
 */
export class LabDhcpServer {
  readonly counters: LabDhcpCounters = { received: {}, replies: {}, ignored: {}, rejected: {} };
  private readonly listeners = new Set<(event: LabDhcpEvent) => void>();

  private constructor(
    private readonly socket: dgram.Socket,
    readonly service: DhcpService,
  ) {
    socket.on('message', (packet, rinfo) => this.onPacket(packet, rinfo));
    socket.on('error', () => undefined);
  }

  static async start(options: LabDhcpServerOptions): Promise<LabDhcpServer> {
    const service = new DhcpService(options);
    const socket = await bindUdp(options.port ?? 0, options.address ?? '127.0.0.1');
    return new LabDhcpServer(socket, service);
  }

  get endpoint(): { address: string; port: number } {
    const { address, port } = this.socket.address();
    return { address, port };
  }

  on(listener: (event: LabDhcpEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  leases(): ServerLease[] {
    return this.service.list();
  }

  private onPacket(packet: Buffer, rinfo: dgram.RemoteInfo): void {
    const from = `${rinfo.address}:${rinfo.port}`;
    let decision;
    let type: DhcpMessageType | undefined;
    try {
      const message = decodeDhcpMessage(packet);
      type = message.options.messageType!;
      this.counters.received[type] = (this.counters.received[type] ?? 0) + 1;
      decision = this.service.handle(message);
    } catch (error) {
      const e = error instanceof LeaseError ? error : new LeaseError('DHCP_BAD_HEADER', (error as Error).message);
      countReject(this.counters.rejected, e.code);
      this.emit({ type: 'rejected', code: e.code, reason: e.message, from });
      return;
    }
    if ('ignored' in decision) {
      this.counters.ignored[decision.ignored] = (this.counters.ignored[decision.ignored] ?? 0) + 1;
      this.emit({ type: 'ignored', ...(type ? { message: type } : {}), reason: decision.ignored, from });
      return;
    }
    const replyType = decision.reply.options.messageType!;
    this.counters.replies[replyType] = (this.counters.replies[replyType] ?? 0) + 1;
    this.emit({ type: 'reply', message: replyType, to: from, ...(decision.lease ? { lease: decision.lease } : {}) });
    // a send error (the client's socket is gone) is the client's loss, as on a real link
    this.socket.send(encodeDhcpMessage(decision.reply), rinfo.port, rinfo.address, () => undefined);
  }

  private emit(event: LabDhcpEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
