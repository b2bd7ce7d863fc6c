import { randomBytes } from 'node:crypto';

/**
 * Interface identifiers IANA reserves (RFC 5453 §3 registry), which a random IID must never take:
 * the Subnet-Router anycast IID (RFC 4291 §2.6.1), the IIDs of the IANA Ethernet block 0200:5EFF:FE00:0000-5212 and
 * 5214-FEFF:FFFF, the Proxy Mobile IPv6 IID 0200:5EFF:FE00:5213 (RFC 6543), and the reserved subnet anycast
 * range FDFF:FFFF:FFFF:FF80-FFFF (RFC 2526).
 */
const reserved: ReadonlyArray<readonly [bigint, bigint]> = [
  [0n, 0n],
  [0x0200_5eff_fe00_0000n, 0x0200_5eff_feff_ffffn],
  [0xfdff_ffff_ffff_ff80n, 0xfdff_ffff_ffff_ffffn],
];

export function isReservedInterfaceId(iid: bigint): boolean {
  return reserved.some(([low, high]) => iid >= low && iid <= high);
}

/**
 * Random 64-bit interface identifiers for one-time addresses (RFC 8981 §3.3.1: from a CSPRNG, never derived from a
 * MAC — so the universal/local bit is just one more random bit, RFC 7136 §5), never a reserved one and never one this
 * phone used before: the last `historySize` are remembered, and a restart restores them from the journal.
 */
export class InterfaceIdGenerator {
  private readonly history = new Set<bigint>();
  private readonly order: bigint[] = [];

  constructor(
    private readonly historySize = 4096,
    private readonly random: (bytes: number) => Buffer = randomBytes,
  ) {}

  next(): bigint {
    for (;;) {
      const iid = this.random(8).readBigUInt64BE(0);
      if (isReservedInterfaceId(iid) || this.history.has(iid)) continue;
      this.remember(iid);
      return iid;
    }
  }

  /** Mark an IID as used (one read back from the journal after a restart). */
  remember(iid: bigint): void {
    if (this.history.has(iid)) return;
    this.history.add(iid);
    this.order.push(iid);
    while (this.order.length > this.historySize) this.history.delete(this.order.shift()!);
  }

  get remembered(): number {
    return this.history.size;
  }
}
