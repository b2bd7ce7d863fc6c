import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { LeaseError } from './lease-error.js';
import { PortPool } from './port-pool.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof LeaseError ? error.code : 'other';
  }
  return undefined;
}

describe('PortPool: ports from the leased range only (seed 003 Figs. 4B, 6A 604, 7A 704)', () => {
  it('refuses a range with min > max or outside 1-65535', () => {
    expect(codeOf(() => new PortPool({ min: 30010, max: 30000 }))).toBe('BAD_PORT_RANGE');
    expect(codeOf(() => new PortPool({ min: 0, max: 10 }))).toBe('BAD_PORT_RANGE');
    expect(codeOf(() => new PortPool({ min: 65000, max: 70000 }))).toBe('BAD_PORT_RANGE');
  });

  it('hands out even RTP + odd RTCP pairs, and single SIP ports from the leftovers of a small range first, all inside it', () => {
    const pool = new PortPool({ min: 20001, max: 20010 });
    const pair = pool.takeRtpPair('call-1');
    expect(pair.rtp % 2).toBe(0);
    expect(pair.rtcp).toBe(pair.rtp + 1);
    expect(pair.rtp).toBeGreaterThanOrEqual(20002);
    expect(pair.rtcp).toBeLessThanOrEqual(20009);
    // 20010 and 20001 have no partner inside the range: single ports take such leftovers first
    const sip = pool.takeSip('udp', 'call-1');
    const tcp = pool.takeSip('tcp');
    expect([sip.port, tcp.port].sort()).toEqual([20001, 20010]);
    expect(pool.snapshot().inUse.map((u) => u.use).sort()).toEqual(['rtcp', 'rtp', 'sip-tcp', 'sip-udp']);
    expect(pool.snapshot().freePairs).toBe(3);
  });

  it('single ports take the leftover of a broken pair before breaking another pair', () => {
    const pool = new PortPool({ min: 20000, max: 20007 });
    const a = pool.takeSip('udp');
    const b = pool.takeSip('tcp');
    expect(b.port).toBe(a.port % 2 === 0 ? a.port + 1 : a.port - 1); // the partner of a, already broken
    expect(pool.snapshot().freePairs).toBe(3);
  });

  it('throws PORT_RANGE_EXHAUSTED instead of ever giving an OS-chosen port', () => {
    const pool = new PortPool({ min: 40000, max: 40004 });
    pool.takeRtpPair();
    pool.takeRtpPair();
    expect(codeOf(() => pool.takeRtpPair())).toBe('PORT_RANGE_EXHAUSTED');
    pool.takeSip('udp');
    expect(codeOf(() => pool.takeSip('ws'))).toBe('PORT_RANGE_EXHAUSTED');
    expect(pool.snapshot().exhausted).toBe(2);
    expect(pool.free).toBe(0);
  });

  it('takeCall is all or nothing: a call that cannot fit takes nothing', () => {
    const pool = new PortPool({ min: 40000, max: 40004 });
    const first = pool.takeCall({ sip: ['udp'], rtpPairs: 1 }, 'c1');
    expect(first.sip[0]!.port).toBe(40004); // the one port without a partner
    expect([40000, 40002]).toContain(first.rtp[0]!.rtp);
    expect(pool.canFit({ sip: ['udp'], rtpPairs: 1 })).toBe(false);
    const before = pool.snapshot().inUse.length;
    const error = (() => {
      try {
        pool.takeCall({ sip: ['udp'], rtpPairs: 1 }, 'c2');
      } catch (e) {
        return e as LeaseError;
      }
      return undefined;
    })();
    expect(error?.code).toBe('PORT_RANGE_EXHAUSTED');
    expect(error?.message).toMatch(/1 SIP port\(s\) and 1 RTP\/RTCP pair\(s\) does not fit in the leased range 40000-40004/);
    expect(pool.snapshot().inUse.length).toBe(before);
    first.release();
    expect(pool.canFit({ sip: ['udp'], rtpPairs: 1 })).toBe(true);
  });

  it('does not hand a just-released pair out again while others are free', () => {
    for (let round = 0; round < 50; round++) {
      const pool = new PortPool({ min: 50000, max: 50009 });
      const a = pool.takeRtpPair();
      a.release();
      const b = pool.takeRtpPair();
      expect(b.rtp).not.toBe(a.rtp);
      expect(b.rtp % 2).toBe(0);
    }
  });

  it('draws ports at random, so a call\'s ports say nothing about the calls before it (issue 17 item 3)', () => {
    for (const range of [{ min: 16384, max: 32767 }, { min: 40000, max: 40099 }]) {
      const pool = new PortPool(range);
      const rtp: number[] = [];
      const sip: number[] = [];
      for (let call = 0; call < 200; call++) {
        const ports = pool.takeCall({ sip: ['udp'], rtpPairs: 1 });
        rtp.push(ports.rtp[0]!.rtp);
        sip.push(ports.sip[0]!.port);
        ports.release();
      }
      for (const ports of [rtp, sip]) {
        const steps = ports.slice(1).map((p, i) => p - ports[i]!);
        // in order, each call's port would be the last one's plus a fixed step: here no step repeats often
        const counts = new Map<number, number>();
        for (const step of steps) counts.set(step, (counts.get(step) ?? 0) + 1);
        expect(Math.max(...counts.values()), `${range.min}-${range.max}: ${ports.slice(0, 12).join(' ')} …`).toBeLessThan(20);
        expect(new Set(ports).size).toBeGreaterThan(range.max - range.min > 1000 ? 190 : 35);
      }
    }
  });

  it('release is idempotent and the pool stays consistent over many random take/release rounds', () => {
    const pool = new PortPool({ min: 30000, max: 30019 });
    let seed = 7;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const held: Array<{ release(): void; ports: number[] }> = [];
    for (let round = 0; round < 2000; round++) {
      if (random() < 0.55) {
        try {
          if (random() < 0.5) {
            const p = pool.takeRtpPair();
            held.push({ release: p.release, ports: [p.rtp, p.rtcp] });
          } else {
            const p = pool.takeSip('udp');
            held.push({ release: p.release, ports: [p.port] });
          }
        } catch (error) {
          expect((error as LeaseError).code).toBe('PORT_RANGE_EXHAUSTED');
        }
      } else if (held.length > 0) {
        const [h] = held.splice(Math.floor(random() * held.length), 1);
        h!.release();
        h!.release();
      }
      const ports = held.flatMap((h) => h.ports);
      expect(new Set(ports).size).toBe(ports.length);
      expect(ports.every((p) => p >= 30000 && p <= 30019)).toBe(true);
      expect(pool.snapshot().inUse.length).toBe(ports.length);
    }
  });

  it('bindWithin skips ports another program holds and binds inside the range', async () => {
    // find four consecutive free ports and occupy all but the lowest with foreign sockets
    const base = await new Promise<number>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.bind(0, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
    const range = { min: base - (base % 2), max: base - (base % 2) + 3 };
    const real = new PortPool(range);
    const held = [range.min + 1, range.min + 2, range.max];
    const foreign = held.map(() => dgram.createSocket('udp4'));
    await Promise.all(
      foreign.map(
        (socket, i) =>
          new Promise<void>((resolve, reject) => {
            socket.once('error', reject);
            socket.bind(held[i], '127.0.0.1', () => resolve());
          }),
      ),
    );
    try {
      const bind = (port: number): Promise<dgram.Socket> =>
        new Promise((resolve, reject) => {
          const s = dgram.createSocket('udp4');
          s.once('error', (e) => {
            s.close();
            reject(e);
          });
          s.bind(port, '127.0.0.1', () => resolve(s));
        });
      const { reservation, bound } = await real.bindWithin(
        () => real.takeSip('udp'),
        (r) => bind(r.port),
        (r) => [r.port],
      );
      expect(reservation.port).toBe(range.min);
      expect(held).toEqual(expect.arrayContaining(real.snapshot().unusable));
      bound.close();
    } finally {
      for (const socket of foreign) socket.close();
    }
  });
});
