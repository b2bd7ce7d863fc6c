import { portRangeProblem, type PortRange } from '../../core/lease/dhcp-options.js';
import { LeaseError } from '../../core/lease/lease-error.js';

/**
 * Disjoint, contiguous port blocks for the phones behind one service gateway (seed 003 "NAT/NAPT/NAPPT": "allocate
 * a range of port numbers for each IP telephone as it acquires its lease"). First fit; a client keeps its block.
 */
export class PortBlockAllocator {
  private readonly blocks = new Map<string, PortRange>();

  constructor(readonly space: PortRange) {
    const problem = portRangeProblem(space);
    if (problem !== undefined) throw new LeaseError('BAD_PORT_RANGE', `port space: ${problem}`);
  }

  /** The block `key` holds, or a new one of `size` ports; undefined when no gap is large enough. */
  allocate(key: string, size: number): PortRange | undefined {
    if (!Number.isInteger(size) || size < 1) throw new LeaseError('BAD_PORT_RANGE', `a port block needs at least 1 port, got ${size}`);
    const held = this.blocks.get(key);
    if (held && held.max - held.min + 1 === size) return { ...held };
    if (held) this.blocks.delete(key);
    const taken = [...this.blocks.values()].sort((a, b) => a.min - b.min);
    // Even starts keep RTP/RTCP pairs (RFC 3550 §11) aligned inside each block.
    let candidate = this.space.min + (this.space.min % 2);
    for (const block of taken) {
      if (candidate + size - 1 < block.min) break;
      candidate = Math.max(candidate, block.max + 1);
      candidate += candidate % 2;
    }
    if (candidate + size - 1 > this.space.max) {
      if (held) this.blocks.set(key, held);
      return undefined;
    }
    const block = { min: candidate, max: candidate + size - 1 };
    this.blocks.set(key, block);
    return { ...block };
  }

  /** Re-install a block read back from stored leases; false when it overlaps another or leaves the space. */
  restore(key: string, block: PortRange): boolean {
    if (block.min < this.space.min || block.max > this.space.max) return false;
    for (const [other, taken] of this.blocks) if (other !== key && block.min <= taken.max && taken.min <= block.max) return false;
    this.blocks.set(key, { ...block });
    return true;
  }

  free(key: string): void {
    this.blocks.delete(key);
  }

  get(key: string): PortRange | undefined {
    const block = this.blocks.get(key);
    return block ? { ...block } : undefined;
  }

  /** Which client a port belongs to (the NAPPT check "the correct internal host is using its assigned port range"). */
  owner(port: number): string | undefined {
    for (const [key, block] of this.blocks) if (port >= block.min && port <= block.max) return key;
    return undefined;
  }

  entries(): Array<[string, PortRange]> {
    return [...this.blocks].map(([k, v]) => [k, { ...v }]);
  }
}
