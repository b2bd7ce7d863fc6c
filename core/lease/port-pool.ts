import { randomInt } from 'node:crypto';
import { portRangeProblem, type PortRange } from './dhcp-options.js';
import type { Lease } from './lease.js';
import { LeaseError } from './lease-error.js';

export type SipTransportName = 'udp' | 'tcp' | 'ws' | 'tls' | 'wss';

/** What a port is for: signaling on one transport, media, or something else the phone opens. */
export type PortUse = `sip-${SipTransportName}` | 'rtp' | 'rtcp' | 'other';

export interface PortReservation {
  port: number;
  use: PortUse;
  owner?: string;
  release(): void;
}

/** RFC 3550 §11: RTP on an even port, RTCP on the next (odd) one. */
export interface RtpPortPair {
  rtp: number;
  rtcp: number;
  owner?: string;
  release(): void;
}

/** What one call needs: a SIP port per transport its identity opens and RTP/RTCP pairs for its streams. */
export interface CallPortRequest {
  sip?: SipTransportName[];
  rtpPairs?: number;
}

export interface CallPorts {
  sip: PortReservation[];
  rtp: RtpPortPair[];
  release(): void;
}

export interface PortPoolSnapshot {
  range: PortRange;
  capacity: number;
  free: number;
  /** Pairs that could still be handed out. */
  freePairs: number;
  inUse: Array<{ port: number; use: PortUse; owner?: string }>;
  /** Ports skipped because another program holds them. */
  unusable: number[];
  /** Refusals because the range was full. */
  exhausted: number;
}

/**
 * The ports of a leased range and only those (seed 003 Figs. 4B 462/482/492: registration, call setup and RTP
 * "using the assigned port range"; Figs. 6A 604 / 7A 704: no port, no registration or call). Never hands out port 0
 * or any port outside the range, so an OS-chosen port cannot happen; a request that does not fit is refused with
 * PORT_RANGE_EXHAUSTED. Every port is drawn at random from the free ones (issue 17: ports handed out in order let a
 * callee tie an anonymous call to the identified one before it), never one just given back while others are free (a
 * late packet of the last call must not reach the next); in a small range single ports take the leftovers of broken
 * pairs first, so SIP ports do not break up RTP pairs.
 */
/** Up to this many ports a range is searched whole; above, random probes find a free port first. */
const smallRange = 256;

export class PortPool {
  private readonly used = new Map<number, { use: PortUse; owner?: string }>();
  private readonly unusable = new Set<number>();
  /** Ports given back lately, oldest first: drawn again only when nothing else is free. */
  private readonly cooling: number[] = [];
  private exhaustedCount = 0;
  private readonly listeners = new Set<() => void>();

  constructor(readonly range: PortRange) {
    const problem = portRangeProblem(range);
    if (problem !== undefined) throw new LeaseError('BAD_PORT_RANGE', `port pool: ${problem}`);
  }

  static fromLease(lease: Pick<Lease, 'portRange'>): PortPool {
    return new PortPool(lease.portRange);
  }

  get capacity(): number {
    return this.range.max - this.range.min + 1;
  }

  get free(): number {
    return this.capacity - this.used.size - [...this.unusable].filter((p) => !this.used.has(p)).length;
  }

  contains(port: number): boolean {
    return Number.isInteger(port) && port >= this.range.min && port <= this.range.max;
  }

  /** One SIP port for `transport`. */
  takeSip(transport: SipTransportName, owner?: string): PortReservation {
    return this.takeSingle(`sip-${transport}`, owner);
  }

  /** A single port for anything else the phone opens (e.g. a TFTP client port). */
  takeSingle(use: PortUse, owner?: string): PortReservation {
    const port = this.findSingle();
    if (port === undefined) throw this.exhausted(`no free port for ${use}`);
    return this.reserve(port, use, owner);
  }

  /** An even RTP port and the odd RTCP port after it. */
  takeRtpPair(owner?: string): RtpPortPair {
    const rtp = this.findPair();
    if (rtp === undefined) throw this.exhausted('no free RTP/RTCP port pair');
    const a = this.reserve(rtp, 'rtp', owner);
    const b = this.reserve(rtp + 1, 'rtcp', owner);
    return {
      rtp,
      rtcp: rtp + 1,
      ...(owner !== undefined ? { owner } : {}),
      release: () => {
        a.release();
        b.release();
      },
    };
  }

  /** Whether `request` fits now, without taking anything. */
  canFit(request: CallPortRequest): boolean {
    return this.plan(request) !== undefined;
  }

  /**
   * Everything one call needs, or nothing: a call that cannot fit in the range is refused before it starts
   * (SPEC.md C "refuses to start a call it cannot fit in the range").
   */
  takeCall(request: CallPortRequest, owner?: string): CallPorts {
    if (this.plan(request) === undefined) {
      throw this.exhausted(`a call needing ${request.sip?.length ?? 0} SIP port(s) and ${request.rtpPairs ?? 0} RTP/RTCP pair(s) does not fit`);
    }
    const rtp = Array.from({ length: request.rtpPairs ?? 0 }, () => this.takeRtpPair(owner));
    const sip = (request.sip ?? []).map((t) => this.takeSip(t, owner));
    return {
      sip,
      rtp,
      release: () => {
        for (const r of sip) r.release();
        for (const r of rtp) r.release();
      },
    };
  }

  /**
   * A port that failed to bind because another program holds it: skipped from now on (it stays counted against
   * the range). The reservation that led to it should be released by the caller.
   */
  markUnusable(port: number): void {
    if (this.contains(port)) this.unusable.add(port);
  }

  /**
   * Take a port with `take` and bind it with `bind`, skipping ports another program holds (EADDRINUSE/EACCES),
   * until the range is used up. Never binds outside the range.
   */
  async bindWithin<R extends { release(): void }, T>(take: () => R, bind: (reservation: R) => Promise<T>, portsOf: (reservation: R) => number[]): Promise<{ reservation: R; bound: T }> {
    for (let tries = 0; tries <= this.capacity; tries++) {
      const reservation = take();
      try {
        return { reservation, bound: await bind(reservation) };
      } catch (error) {
        reservation.release();
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EADDRINUSE' && code !== 'EACCES') throw error;
        for (const port of portsOf(reservation)) this.markUnusable(port);
      }
    }
    throw this.exhausted('every port tried is held by another program');
  }

  snapshot(): PortPoolSnapshot {
    let freePairs = 0;
    for (let p = this.firstEven; p + 1 <= this.range.max; p += 2) if (this.isFree(p) && this.isFree(p + 1)) freePairs++;
    return {
      range: { ...this.range },
      capacity: this.capacity,
      free: this.free,
      freePairs,
      inUse: [...this.used].sort((a, b) => a[0] - b[0]).map(([port, u]) => ({ port, use: u.use, ...(u.owner !== undefined ? { owner: u.owner } : {}) })),
      unusable: [...this.unusable].sort((a, b) => a - b),
      exhausted: this.exhaustedCount,
    };
  }

  private get firstEven(): number {
    return this.range.min % 2 === 0 ? this.range.min : this.range.min + 1;
  }

  private isFree(port: number): boolean {
    return this.contains(port) && !this.used.has(port) && !this.unusable.has(port);
  }

  /** A random free even port whose odd neighbour is free (RFC 3550 §11). */
  private findPair(skip: ReadonlySet<number> = new Set()): number | undefined {
    const pairs = Math.floor((this.range.max - this.firstEven + 1) / 2);
    const free = (port: number): boolean => this.isFree(port) && this.isFree(port + 1) && !skip.has(port) && !skip.has(port + 1);
    return this.draw(pairs, (i) => this.firstEven + i * 2, free, (port) => this.isCooling(port) || this.isCooling(port + 1));
  }

  /** A random free port; in a small range, one that breaks no free pair when there is one. */
  private findSingle(skip: ReadonlySet<number> = new Set()): number | undefined {
    const usable = (p: number): boolean => this.isFree(p) && !skip.has(p);
    const partner = (p: number): number => (p % 2 === 0 ? p + 1 : p - 1);
    const at = (i: number): number => this.range.min + i;
    if (this.capacity <= smallRange) {
      const leftover = this.draw(this.capacity, at, (p) => usable(p) && !usable(partner(p)), (p) => this.isCooling(p));
      if (leftover !== undefined) return leftover;
    }
    return this.draw(this.capacity, at, usable, (p) => this.isCooling(p));
  }

  /**
   * One of `count` slots (`port(i)`) that `fits`, chosen at random; a cooling one only when no other fits. A large range
   * is probed at random first (nearly all of it is free), then, like a small one, every slot that fits is listed.
   */
  private draw(count: number, port: (i: number) => number, fits: (p: number) => boolean, cooling: (p: number) => boolean): number | undefined {
    if (count <= 0) return undefined;
    if (count > smallRange) {
      for (let probe = 0; probe < 64; probe++) {
        const candidate = port(randomInt(count));
        if (fits(candidate) && !cooling(candidate)) return candidate;
      }
    }
    const warm: number[] = [];
    const cold: number[] = [];
    for (let i = 0; i < count; i++) {
      const candidate = port(i);
      if (fits(candidate)) (cooling(candidate) ? warm : cold).push(candidate);
    }
    const from = cold.length > 0 ? cold : warm;
    return from.length > 0 ? from[randomInt(from.length)] : undefined;
  }

  private isCooling(port: number): boolean {
    return this.cooling.includes(port);
  }

  /** Where a request would go, without taking anything; undefined when it does not fit. */
  private plan(request: CallPortRequest): number[] | undefined {
    const taken = new Set<number>();
    for (let i = 0; i < (request.rtpPairs ?? 0); i++) {
      const port = this.findPair(taken);
      if (port === undefined) return undefined;
      taken.add(port).add(port + 1);
    }
    for (let i = 0; i < (request.sip?.length ?? 0); i++) {
      const port = this.findSingle(taken);
      if (port === undefined) return undefined;
      taken.add(port);
    }
    return [...taken];
  }

  /** Called after every port taken or given back (a status bar's count follows); returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  private reserve(port: number, use: PortUse, owner?: string): PortReservation {
    this.used.set(port, { use, ...(owner !== undefined ? { owner } : {}) });
    this.changed();
    let released = false;
    return {
      port,
      use,
      ...(owner !== undefined ? { owner } : {}),
      release: () => {
        if (released) return;
        released = true;
        this.used.delete(port);
        this.cooling.push(port);
        if (this.cooling.length > Math.min(32, this.capacity >> 2)) this.cooling.shift();
        this.changed();
      },
    };
  }

  private exhausted(what: string): LeaseError {
    this.exhaustedCount++;
    return new LeaseError('PORT_RANGE_EXHAUSTED', `${what} in the leased range ${this.range.min}-${this.range.max} (${this.used.size} of ${this.capacity} in use)`);
  }
}
