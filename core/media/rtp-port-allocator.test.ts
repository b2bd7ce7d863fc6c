import { describe, expect, it } from 'vitest';
import { RtpPortAllocator } from './rtp-port-allocator.js';

describe('RtpPortAllocator', () => {
  it('draws each call\'s pair at random from the range, so its port says nothing about the calls before it (issue 17 item 3)', async () => {
    const allocator = new RtpPortAllocator({ min: 42000, max: 42999 });
    const ports: number[] = [];
    for (let call = 0; call < 60; call++) {
      const pair = await allocator.allocate('127.0.0.1');
      expect(pair.rtpPort % 2).toBe(0);
      expect(pair.rtpPort).toBeGreaterThanOrEqual(42000);
      expect(pair.rtpPort + 1).toBeLessThanOrEqual(42999);
      ports.push(pair.rtpPort);
      pair.release();
    }
    const steps = ports.slice(1).map((p, i) => p - ports[i]!);
    const counts = new Map<number, number>();
    for (const step of steps) counts.set(step, (counts.get(step) ?? 0) + 1);
    expect(Math.max(...counts.values()), ports.slice(0, 12).join(' ')).toBeLessThan(8); // in order: +2 every time
    expect(new Set(ports).size).toBeGreaterThan(45);
  });

  it('never hands a just-released pair out again while others are free', async () => {
    const allocator = new RtpPortAllocator({ min: 42100, max: 42109 });
    for (let round = 0; round < 20; round++) {
      const a = await allocator.allocate('127.0.0.1');
      a.release();
      const b = await allocator.allocate('127.0.0.1');
      expect(b.rtpPort).not.toBe(a.rtpPort);
      b.release();
    }
  });
});
