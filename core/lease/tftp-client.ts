import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { countReject, LeaseError, type LeaseErrorCode, type RejectCounters } from './lease-error.js';
import { decodeTftp, encodeTftp, MAX_BLKSIZE, TftpErrorCodes, type TftpPacket } from './tftp-packet.js';

export interface TftpClientOptions {
  server: { address: string; port?: number };
  /** Local address and port (default: any, a free port). */
  bindAddress?: string;
  localPort?: number;
  /** RFC 2348 block size to ask for (default 1428: one Ethernet frame); the server may lower it. */
  blksize?: number;
  /** Ask for the size first (RFC 2349 tsize) and check it (default true). */
  tsize?: boolean;
  /** Wait for each packet before resending the last one (default 1000 ms; tftpd-hpa resends on its own 1 s timer). */
  timeoutMs?: number;
  /** Resends per packet before the attempt fails (default 4). */
  retries?: number;
  /** Whole-transfer attempts (seed 003 Fig. 5B 582: up to four). */
  maxAttempts?: number;
  /** Delay between attempts (default 500 ms). */
  attemptDelayMs?: number;
  /** Largest file accepted (default 1 MiB). */
  maxBytes?: number;
}

export type TftpEvent =
  | { type: 'attempt'; attempt: number; file: string; options: boolean }
  | { type: 'oack'; blksize: number; tsize?: number }
  | { type: 'failed-attempt'; attempt: number; code: LeaseErrorCode; message: string }
  | { type: 'rejected'; code: LeaseErrorCode; reason: string; from: string }
  | { type: 'done'; bytes: number; attempts: number; blocks: number };

export interface TftpResult {
  data: Buffer;
  attempts: number;
  blksize: number;
  tsize?: number;
}

export interface TftpCounters {
  attempts: number;
  /** Packets refused (malformed, or from a stranger), by code. */
  rejected: RejectCounters;
  /** Failed attempts, by code. */
  failures: RejectCounters;
  resent: number;
}

class AttemptFailure extends LeaseError {
  constructor(
    code: LeaseErrorCode,
    message: string,
    readonly retry: boolean,
    readonly withoutOptions = false,
  ) {
    super(code, message);
  }
}

/**
 * TFTP read (RFC 1350) with block size and transfer size options (RFC 2347-2349), as the phone fetches its boot
 * file (seed 003 Fig. 5B 544-584): at most `maxAttempts` attempts, "file not found" and an ERROR mid-transfer each
 * end an attempt with a typed error, a stranger's packet is answered with error 5 and ignored (RFC 1350 §4).
 */
export class TftpClient {
  readonly counters: TftpCounters = { attempts: 0, rejected: {}, failures: {}, resent: 0 };
  private readonly listeners = new Set<(event: TftpEvent) => void>();

  constructor(private readonly options: TftpClientOptions) {}

  on(listener: (event: TftpEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async fetch(file: string): Promise<TftpResult> {
    const maxAttempts = this.options.maxAttempts ?? 4;
    let withOptions = true;
    let last: LeaseError | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      this.counters.attempts++;
      this.emit({ type: 'attempt', attempt, file, options: withOptions });
      try {
        const result = await this.transfer(file, withOptions);
        this.emit({ type: 'done', bytes: result.data.length, attempts: attempt, blocks: Math.ceil((result.data.length + 1) / result.blksize) });
        return { ...result, attempts: attempt };
      } catch (error) {
        const failure = error instanceof AttemptFailure ? error : new AttemptFailure('TFTP_ERROR', (error as Error).message, true);
        countReject(this.counters.failures, failure.code);
        this.emit({ type: 'failed-attempt', attempt, code: failure.code, message: failure.message });
        last = new LeaseError(failure.code, `${failure.message} (attempt ${attempt} of ${maxAttempts})`);
        if (!failure.retry) break;
        if (failure.withoutOptions) withOptions = false;
        if (attempt < maxAttempts) await new Promise((resolve) => setTimeout(resolve, this.options.attemptDelayMs ?? 500));
      }
    }
    throw last ?? new LeaseError('TFTP_ERROR', 'no attempt made');
  }

  /** One attempt: a fresh socket (a new TID, RFC 1350 §4), RRQ, then DATA/ACK lock-step until a short block. */
  private async transfer(file: string, withOptions: boolean): Promise<Omit<TftpResult, 'attempts'>> {
    // option 66 may be a host name; replies come from an address
    let address = this.options.server.address;
    if (isIP(address) === 0) {
      try {
        address = (await lookup(address)).address;
      } catch (error) {
        throw new AttemptFailure('NO_TFTP_SERVER', `cannot resolve TFTP server "${address}": ${(error as Error).message}`, true);
      }
    }
    const server = { address, port: this.options.server.port ?? 69 };
    const requested = Math.min(MAX_BLKSIZE, Math.max(8, this.options.blksize ?? 1428));
    const timeoutMs = this.options.timeoutMs ?? 1000;
    const retries = this.options.retries ?? 4;
    const maxBytes = this.options.maxBytes ?? 1024 * 1024;
    const askSize = this.options.tsize ?? true;
    const socket = dgram.createSocket(isIP(server.address) === 6 ? 'udp6' : 'udp4');

    return new Promise<Omit<TftpResult, 'attempts'>>((resolve, reject) => {
      let tid: number | undefined;
      let blksize = 512;
      let tsize: number | undefined;
      let expected = 1;
      const chunks: Buffer[] = [];
      let received = 0;
      let lastSent: Buffer = Buffer.alloc(0);
      let lastTo = server;
      let resends = 0;
      let timer: NodeJS.Timeout | undefined;
      let finished = false;

      let pending = 0;
      const closeWhenSent = (): void => {
        if (finished && pending === 0) socket.close();
      };
      const finish = (error?: AttemptFailure, result?: Omit<TftpResult, 'attempts'>): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        // a final ERROR or ACK still being sent goes out before the socket closes
        closeWhenSent();
        if (error) reject(error);
        else resolve(result!);
      };
      const send = (bytes: Buffer, to: { address: string; port: number }): void => {
        lastSent = bytes;
        lastTo = to;
        socket.send(bytes, to.port, to.address, (error) => {
          if (error) finish(new AttemptFailure('TFTP_ERROR', `cannot send to ${to.address}:${to.port}: ${error.message}`, true));
        });
        arm();
      };
      const arm = (): void => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          if (resends >= retries) return finish(new AttemptFailure('TFTP_TIMEOUT', `no answer from ${server.address}:${server.port} after ${retries + 1} sends`, true));
          resends++;
          this.counters.resent++;
          socket.send(lastSent, lastTo.port, lastTo.address, () => undefined);
          arm();
        }, timeoutMs);
      };
      const abort = (code: number, message: string, to: { address: string; port: number }): void => {
        pending++;
        socket.send(encodeTftp({ op: 'ERROR', code, message }), to.port, to.address, () => {
          pending--;
          closeWhenSent();
        });
      };
      const reject_ = (code: LeaseErrorCode, reason: string, from: string): void => {
        countReject(this.counters.rejected, code);
        this.emit({ type: 'rejected', code, reason, from });
      };

      socket.on('error', (error) => finish(new AttemptFailure('TFTP_ERROR', error.message, true)));
      socket.on('message', (bytes, rinfo) => {
        const from = `${rinfo.address}:${rinfo.port}`;
        if (rinfo.address !== server.address) return reject_('TFTP_BAD_PACKET', 'packet from a host that is not the server', from);
        // RFC 1350 §4: the first answer fixes the server's TID; packets from any other port get error 5
        if (tid !== undefined && rinfo.port !== tid) {
          abort(TftpErrorCodes.UNKNOWN_TID, 'Unknown transfer ID', { address: rinfo.address, port: rinfo.port });
          return reject_('TFTP_BAD_PACKET', `packet from port ${rinfo.port}, the transfer is with port ${tid}`, from);
        }
        let packet: TftpPacket;
        try {
          packet = decodeTftp(bytes);
        } catch (error) {
          return reject_((error as LeaseError).code ?? 'TFTP_BAD_PACKET', (error as Error).message, from);
        }
        const peer = { address: rinfo.address, port: rinfo.port };
        if (packet.op === 'ERROR') {
          tid ??= rinfo.port;
          const where = received > 0 ? ` after ${received} bytes` : '';
          if (packet.code === TftpErrorCodes.FILE_NOT_FOUND) return finish(new AttemptFailure('TFTP_FILE_NOT_FOUND', `${file}: file not found on ${server.address} (${packet.message})`, true));
          if (packet.code === TftpErrorCodes.OPTION_REFUSED) return finish(new AttemptFailure('TFTP_ERROR', `server refused the options: ${packet.message}`, true, true));
          return finish(new AttemptFailure('TFTP_ERROR', `server error ${packet.code} "${packet.message}"${where}`, true));
        }
        if (packet.op === 'OACK') {
          if (tid !== undefined || !withOptions) return reject_('TFTP_BAD_PACKET', 'unexpected OACK', from);
          tid = rinfo.port;
          const size = packet.options.blksize !== undefined ? Number(packet.options.blksize) : 512;
          // RFC 2348: the server may only lower the block size, within 8-65464
          if (!Number.isInteger(size) || size < 8 || size > requested) {
            abort(TftpErrorCodes.OPTION_REFUSED, 'bad blksize', peer);
            return finish(new AttemptFailure('TFTP_BAD_PACKET', `server answered blksize "${packet.options.blksize}" for ${requested}`, true, true));
          }
          blksize = size;
          if (packet.options.tsize !== undefined) {
            tsize = Number(packet.options.tsize);
            if (!Number.isInteger(tsize) || tsize < 0) {
              abort(TftpErrorCodes.OPTION_REFUSED, 'bad tsize', peer);
              return finish(new AttemptFailure('TFTP_BAD_PACKET', `server answered tsize "${packet.options.tsize}"`, true, true));
            }
            // RFC 2349: a client may abort a transfer it cannot take, with error 8 (here: above maxBytes)
            if (tsize > maxBytes) {
              abort(TftpErrorCodes.OPTION_REFUSED, 'file too large', peer);
              return finish(new AttemptFailure('TFTP_TOO_LARGE', `${file} is ${tsize} bytes, above the ${maxBytes}-byte limit`, false));
            }
          }
          this.emit({ type: 'oack', blksize, ...(tsize !== undefined ? { tsize } : {}) });
          resends = 0;
          return send(encodeTftp({ op: 'ACK', block: 0 }), peer);
        }
        if (packet.op !== 'DATA') return reject_('TFTP_BAD_PACKET', `unexpected ${packet.op}`, from);
        tid ??= rinfo.port;
        if (packet.block === ((expected - 1) & 0xffff)) {
          // a duplicate of the block we acknowledged: our ACK was lost, acknowledge again
          return socket.send(encodeTftp({ op: 'ACK', block: packet.block }), peer.port, peer.address, () => undefined);
        }
        if (packet.block !== (expected & 0xffff)) return reject_('TFTP_BAD_PACKET', `block ${packet.block} while expecting ${expected & 0xffff}`, from);
        if (packet.data.length > blksize) return reject_('TFTP_BAD_PACKET', `block of ${packet.data.length} bytes, block size is ${blksize}`, from);
        received += packet.data.length;
        if (received > maxBytes) {
          abort(TftpErrorCodes.DISK_FULL, 'file too large', peer);
          return finish(new AttemptFailure('TFTP_TOO_LARGE', `${file} is above the ${maxBytes}-byte limit`, false));
        }
        chunks.push(packet.data);
        expected++;
        resends = 0;
        const ack = encodeTftp({ op: 'ACK', block: packet.block });
        if (packet.data.length < blksize) {
          socket.send(ack, peer.port, peer.address, () => {
            const data = Buffer.concat(chunks);
            if (tsize !== undefined && data.length !== tsize) return finish(new AttemptFailure('TFTP_SIZE_MISMATCH', `${file}: got ${data.length} bytes, tsize said ${tsize}`, true));
            finish(undefined, { data, blksize, ...(tsize !== undefined ? { tsize } : {}) });
          });
          return;
        }
        send(ack, peer);
      });

      socket.bind(this.options.localPort ?? 0, this.options.bindAddress, () => {
        const options: Record<string, string> = {};
        if (withOptions) {
          if (requested !== 512) options.blksize = String(requested);
          if (askSize) options.tsize = '0';
        }
        send(encodeTftp({ op: 'RRQ', file, mode: 'octet', options }), server);
      });
    });
  }

  private emit(event: TftpEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
