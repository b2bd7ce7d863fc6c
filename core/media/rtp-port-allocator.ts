import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { MediaError } from './media-error.js';
import { mediaLookup } from './datagram-lookup.js';

export interface PortRange {
  min: number;
  max: number;
}

/** An RTP socket on an even port with its RTCP socket on the next one (RFC 3550 §11). */
export interface RtpSocketPair {
  rtp: dgram.Socket;
  rtcp: dgram.Socket;
  rtpPort: number;
  release(): void;
}

function bind(socket: dgram.Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    socket.once('error', onError);
    socket.bind(port, address, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

function close(socket: dgram.Socket): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}

/**
 * Where pairs come from when another owner manages the whole range (the phone's leased port pool, which also hands
 * out its SIP ports): an even RTP port, RTCP on the next one, and release() to give both back. It throws when the
 * range is full.
 */
export interface RtpPairSource {
  takeRtpPair(owner?: string): { rtp: number; release(): void };
}

/**
 * Hands out RTP/RTCP port pairs from a range, and only from it: when no pair in the range can be bound, the call
 * is refused with PORT_RANGE_EXHAUSTED rather than given an OS-chosen port (seed 003: every port the phone uses is
 * inside its leased range). Pairs are drawn at random (issue 17: ports in order let a callee tie an anonymous call to the
 * identified one before it), never one just given back while others are free (a late packet of the last call must not
 * reach the next).
 */
export class RtpPortAllocator {
  private readonly inUse = new Set<number>();
  /** Pairs given back lately, oldest first. */
  private readonly cooling: number[] = [];

  constructor(
    readonly range: PortRange,
    private readonly pairs?: RtpPairSource,
  ) {
    if (!Number.isInteger(range.min) || !Number.isInteger(range.max) || range.min < 1024 || range.max > 65535 || range.max < range.min + 1) {
      throw new RangeError(`an RTP port range needs at least two ports between 1024 and 65535, got ${range.min}-${range.max}`);
    }
  }

  private get firstEven(): number {
    return this.range.min % 2 === 0 ? this.range.min : this.range.min + 1;
  }

  /** Pairs the range can hold at most. */
  get capacity(): number {
    return Math.max(0, Math.floor((this.range.max - this.firstEven + 1) / 2));
  }

  get used(): number {
    return this.inUse.size;
  }

  /** A random pair not in use and not in `skip`, and not cooling while others are free. */
  private draw(skip: ReadonlySet<number>): number | undefined {
    const pairs = this.capacity;
    const port = (i: number): number => this.firstEven + i * 2;
    const fits = (p: number): boolean => !this.inUse.has(p) && !skip.has(p);
    if (pairs > 256) {
      for (let probe = 0; probe < 64; probe++) {
        const candidate = port(randomInt(pairs));
        if (fits(candidate) && !this.cooling.includes(candidate)) return candidate;
      }
    }
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < pairs; i++) if (fits(port(i))) (this.cooling.includes(port(i)) ? warm : cold).push(port(i));
    const from = cold.length > 0 ? cold : warm;
    return from.length > 0 ? from[randomInt(from.length)] : undefined;
  }

  async allocate(address: string): Promise<RtpSocketPair> {
    const type = isIP(address) === 6 ? 'udp6' : 'udp4';
    const held = new Set<number>(); // pairs another program holds, not tried twice
    for (let tried = 0; tried < this.capacity; tried++) {
      let port: number;
      let giveBack = (): void => undefined;
      if (this.pairs) {
        let pair: { rtp: number; release(): void };
        try {
          pair = this.pairs.takeRtpPair();
        } catch (error) {
          throw new MediaError('PORT_RANGE_EXHAUSTED', `no free RTP/RTCP port pair in ${this.range.min}-${this.range.max}: ${(error as Error).message}`);
        }
        port = pair.rtp;
        giveBack = () => pair.release();
      } else {
        const drawn = this.draw(held);
        if (drawn === undefined) break;
        port = drawn;
        held.add(port);
      }
      const rtp = dgram.createSocket({ type, ipv6Only: type === 'udp6', lookup: mediaLookup });
      const rtcp = dgram.createSocket({ type, ipv6Only: type === 'udp6', lookup: mediaLookup });
      try {
        await bind(rtp, port, address);
        await bind(rtcp, port + 1, address);
      } catch (error) {
        close(rtp);
        close(rtcp);
        giveBack();
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES') continue;
        throw new MediaError('SOCKET_FAILED', `cannot bind RTP on ${address}:${port}: ${(error as Error).message}`);
      }
      this.inUse.add(port);
      let released = false;
      return {
        rtp,
        rtcp,
        rtpPort: port,
        release: () => {
          if (released) return;
          released = true;
          close(rtp);
          close(rtcp);
          this.inUse.delete(port);
          this.cooling.push(port);
          if (this.cooling.length > Math.min(32, this.capacity >> 2)) this.cooling.shift();
          giveBack();
        },
      };
    }
    throw new MediaError('PORT_RANGE_EXHAUSTED', `no free RTP/RTCP port pair in ${this.range.min}-${this.range.max} (${this.inUse.size} in use)`);
  }
}
