import { describe, expect, it } from 'vitest';
import { InterfaceIdGenerator, isReservedInterfaceId } from './interface-id.js';

/** The long property of the interface-identifier generator (the slow project: seconds of CPU). */
describe('interface identifiers (RFC 8981 §3.3.1, RFC 5453), at length', () => {
  it('never repeats and never takes a reserved value in 10^6 draws', () => {
    const generator = new InterfaceIdGenerator(1_000_000);
    const seen = new Set<bigint>();
    const reserved: bigint[] = [];
    for (let i = 0; i < 1_000_000; i++) {
      const iid = generator.next();
      if (isReservedInterfaceId(iid)) reserved.push(iid); // one expect per draw would cost more than the draws
      seen.add(iid);
    }
    expect(reserved).toEqual([]);
    expect(seen.size).toBe(1_000_000);
  });
});
