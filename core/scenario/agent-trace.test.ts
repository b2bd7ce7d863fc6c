import { describe, expect, it } from 'vitest';
import type { SipTapEntry } from '../sip/transport/message-tap.js';
import { appendToTrace } from './agent-trace.js';

const entry = (n: number): SipTapEntry => ({ dir: 'in', at: n, transport: 'udp', local: '127.0.0.1:5060', remote: '127.0.0.1:5070', raw: `OPTIONS sip:${n}@x SIP/2.0\r\n\r\n` });

describe('an agent trace', () => {
  it('keeps every message up to its limit, then drops the oldest quarter and keeps the newest in order', () => {
    const trace: SipTapEntry[] = [];
    let dropped = 0;
    for (let n = 1; n <= 100; n++) dropped += appendToTrace(trace, entry(n), 100);
    expect(trace).toHaveLength(100);
    expect(dropped).toBe(0);
    dropped += appendToTrace(trace, entry(101), 100);
    expect(dropped).toBe(25);
    expect(trace.map((e) => e.at)).toEqual(Array.from({ length: 76 }, (_, i) => 26 + i));
  });

  it('stays bounded over a long run: never more than its limit, and the newest message is always the last', () => {
    const trace: SipTapEntry[] = [];
    let dropped = 0;
    for (let n = 1; n <= 100_000; n++) {
      dropped += appendToTrace(trace, entry(n), 1000);
      expect(trace.length).toBeLessThanOrEqual(1000);
    }
    expect(trace.at(-1)!.at).toBe(100_000);
    expect(dropped + trace.length).toBe(100_000);
  });
});
