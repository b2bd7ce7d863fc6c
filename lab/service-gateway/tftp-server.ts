import dgram from 'node:dgram';
import { bindUdp } from './bind-udp.js';
import { countReject, LeaseError, type RejectCounters } from '../../core/lease/lease-error.js';
import { decodeTftp, encodeTftp, MAX_BLKSIZE, TftpErrorCodes, type TftpPacket } from '../../core/lease/tftp-packet.js';

export interface LabTftpServerOptions {
  address?: string;
  /** 0 (default) picks a free port; 69 is the real one. */
  port?: number;
  /** The files served, by name (the service gateway's "local flash", seed 003 Fig. 5B 550). */
  files?: Record<string, string | Buffer>;
  /** Largest block size granted (default 8192). */
  maxBlksize?: number;
  timeoutMs?: number;
  retries?: number;
}

export interface LabTftpCounters {
  requests: number;
  served: number;
  notFound: number;
  /** Malformed or unexpected packets, by code. */
  rejected: RejectCounters;
  timeouts: number;
}

/**
 * The service gateway's TFTP server (seed 003 "Trivial File Transfer Protocol", Fig. 5B 546-580): read-only, RFC
 * 1350 lock-step with RFC 2347-2349 blksize/tsize, one socket (TID) per transfer, error 1 for a missing file.
 */
export class LabTftpServer {
  readonly counters: LabTftpCounters = { requests: 0, served: 0, notFound: 0, rejected: {}, timeouts: 0 };
  private readonly files = new Map<string, Buffer>();
  /** Open transfers, by their close function. */
  private readonly transfers = new Set<() => void>();

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly options: LabTftpServerOptions,
  ) {
    for (const [name, content] of Object.entries(options.files ?? {})) this.setFile(name, content);
    socket.on('message', (bytes, rinfo) => this.onRequest(bytes, rinfo));
    socket.on('error', () => undefined);
  }

  static async start(options: LabTftpServerOptions = {}): Promise<LabTftpServer> {
    const socket = await bindUdp(options.port ?? 0, options.address ?? '127.0.0.1');
    return new LabTftpServer(socket, options);
  }

  get endpoint(): { address: string; port: number } {
    const { address, port } = this.socket.address();
    return { address, port };
  }

  setFile(name: string, content: string | Buffer): void {
    this.files.set(name.replace(/^\/+/, ''), Buffer.isBuffer(content) ? Buffer.from(content) : Buffer.from(content, 'utf8'));
  }

  deleteFile(name: string): void {
    this.files.delete(name.replace(/^\/+/, ''));
  }

  private reject(error: unknown): void {
    countReject(this.counters.rejected, error instanceof LeaseError ? error.code : 'TFTP_BAD_PACKET');
  }

  private onRequest(bytes: Buffer, rinfo: dgram.RemoteInfo): void {
    let packet: TftpPacket;
    try {
      packet = decodeTftp(bytes);
    } catch (error) {
      return this.reject(error);
    }
    if (packet.op !== 'RRQ' && packet.op !== 'WRQ') return this.reject(new LeaseError('TFTP_BAD_PACKET', `${packet.op} on the request port`));
    this.counters.requests++;
    const peer = { address: rinfo.address, port: rinfo.port };
    const transfer = dgram.createSocket('udp4');
    transfer.on('error', () => undefined);
    transfer.bind(0, this.options.address ?? '127.0.0.1', () => this.serve(transfer, packet as Extract<TftpPacket, { op: 'RRQ' | 'WRQ' }>, peer));
  }

  private serve(socket: dgram.Socket, request: Extract<TftpPacket, { op: 'RRQ' | 'WRQ' }>, peer: { address: string; port: number }): void {
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      this.transfers.delete(close);
      try {
        socket.close();
      } catch {
        // already closed
      }
    };
    this.transfers.add(close);
    const error = (code: number, message: string): void => {
      if (closed) return;
      socket.send(encodeTftp({ op: 'ERROR', code, message }), peer.port, peer.address, () => close());
    };
    let timer: NodeJS.Timeout | undefined;
    if (request.op === 'WRQ') return error(TftpErrorCodes.ACCESS_VIOLATION, 'read-only server');
    if (request.mode !== 'octet' && request.mode !== 'netascii') return error(TftpErrorCodes.ILLEGAL_OPERATION, `mode ${request.mode}`);
    const data = this.files.get(request.file.replace(/^\/+/, ''));
    if (!data) {
      this.counters.notFound++;
      return error(TftpErrorCodes.FILE_NOT_FOUND, 'File not found');
    }
    let blksize = 512;
    const oack: Record<string, string> = {};
    if (request.options.blksize !== undefined) {
      const asked = Number(request.options.blksize);
      if (Number.isInteger(asked) && asked >= 8) {
        blksize = Math.min(asked, this.options.maxBlksize ?? 8192, MAX_BLKSIZE);
        oack.blksize = String(blksize);
      }
    }
    if (request.options.tsize !== undefined) oack.tsize = String(data.length);
    const timeoutMs = this.options.timeoutMs ?? 1000;
    const retries = this.options.retries ?? 4;
    // block 0 is the OACK (RFC 2347), acknowledged with ACK 0; without options DATA 1 goes out at once
    let block = Object.keys(oack).length > 0 ? 0 : 1;
    let resends = 0;
    const packetFor = (n: number): Buffer => (n === 0 ? encodeTftp({ op: 'OACK', options: oack }) : encodeTftp({ op: 'DATA', block: n & 0xffff, data: data.subarray((n - 1) * blksize, n * blksize) }));
    const lastBlock = Math.floor(data.length / blksize) + 1;
    const sendCurrent = (): void => {
      if (closed) return;
      socket.send(packetFor(block), peer.port, peer.address, () => undefined);
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (resends++ >= retries) {
          this.counters.timeouts++;
          return close();
        }
        sendCurrent();
      }, timeoutMs);
    };
    socket.on('message', (bytes, rinfo) => {
      if (closed) return;
      if (rinfo.port !== peer.port || rinfo.address !== peer.address) {
        socket.send(encodeTftp({ op: 'ERROR', code: TftpErrorCodes.UNKNOWN_TID, message: 'Unknown transfer ID' }), rinfo.port, rinfo.address, () => undefined);
        return this.reject(new LeaseError('TFTP_BAD_PACKET', 'unknown TID'));
      }
      let packet: TftpPacket;
      try {
        packet = decodeTftp(bytes);
      } catch (e) {
        return this.reject(e);
      }
      if (packet.op === 'ERROR') return close();
      if (packet.op !== 'ACK') return this.reject(new LeaseError('TFTP_BAD_PACKET', `unexpected ${packet.op}`));
      // a duplicate ACK is ignored, never answered with the data again (RFC 1123 §4.2.3.1, Sorcerer's Apprentice)
      if (packet.block !== (block & 0xffff)) return;
      if (block === lastBlock) {
        this.counters.served++;
        return close();
      }
      block++;
      resends = 0;
      sendCurrent();
    });
    sendCurrent();
  }

  async stop(): Promise<void> {
    for (const close of [...this.transfers]) close();
    await new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
