import { describe, expect, it } from 'vitest';
import { LeaseError } from './lease-error.js';
import { mgcFailureOf, MgcSelector, type MgcSelectorEvent } from './mgc-selector.js';

const primary = { address: '10.77.0.5', port: 5060 };
const secondary = { address: '10.77.0.6', port: 5070 };

function selector(now = { t: 0 }): { s: MgcSelector; events: MgcSelectorEvent[]; now: { t: number } } {
  const s = new MgcSelector({ mgc: [primary, secondary], primaryRetryMs: 30_000, now: () => now.t });
  const events: MgcSelectorEvent[] = [];
  s.on((e) => events.push(e));
  return { s, events, now };
}

describe('MgcSelector (seed 003 Figs. 6A 612-628, 7A 712-728)', () => {
  it('tries the primary first', () => {
    const { s } = selector();
    expect(s.attempt().target).toEqual(primary);
    expect(s.active).toEqual(primary);
  });

  it('fails over to the secondary on a timeout and stays there for later operations', () => {
    const { s, events } = selector();
    const attempt = s.attempt();
    expect(attempt.failed('timeout')).toEqual(secondary);
    expect(attempt.target).toEqual(secondary);
    attempt.succeeded();
    expect(events).toEqual([{ type: 'failover', from: primary, to: secondary, reason: 'timeout' }]);
    expect(s.active).toEqual(secondary);
    expect(s.attempt().target).toEqual(secondary);
  });

  it('fails the operation with MGC_UNREACHABLE once both were tried (Fig. 6A 626 → 606)', () => {
    const { s, events } = selector();
    const attempt = s.attempt();
    attempt.failed('transport');
    let error: unknown;
    try {
      attempt.failed('timeout');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LeaseError);
    expect((error as LeaseError).code).toBe('MGC_UNREACHABLE');
    expect(events.at(-1)).toEqual({ type: 'unreachable', tried: [primary, secondary], reason: 'timeout' });
  });

  it('while on the secondary a probe of the primary is due every interval; an answer moves back', () => {
    const { s, events, now } = selector();
    s.attempt().failed('timeout');
    expect(s.primaryProbeDue()).toBe(false);
    now.t = 30_000;
    expect(s.primaryProbeDue()).toBe(true);
    s.primaryProbed(false);
    expect(s.primaryProbeDue()).toBe(false);
    now.t = 60_000;
    expect(s.primaryProbeDue()).toBe(true);
    s.primaryProbed(true);
    expect(s.active).toEqual(primary);
    expect(events.at(-1)).toEqual({ type: 'failback', to: primary, reason: 'primary answered' });
    expect(s.primaryProbeDue()).toBe(false);
  });

  it('an operation on the secondary that fails tries the primary, and reaching it moves back', () => {
    const { s, events } = selector();
    s.attempt().failed('timeout');
    const attempt = s.attempt();
    expect(attempt.target).toEqual(secondary);
    expect(attempt.failed('timeout')).toEqual(primary);
    attempt.succeeded();
    expect(s.active).toEqual(primary);
    expect(events.map((e) => e.type)).toEqual(['failover', 'failback']);
  });

  it('with one soft switch a failure is at once MGC_UNREACHABLE; with none the selector cannot exist (Fig. 6A 608)', () => {
    const s = new MgcSelector({ mgc: [primary] });
    expect(() => s.attempt().failed('timeout')).toThrow(LeaseError);
    expect(() => new MgcSelector({ mgc: [] })).toThrow(/no soft switch/);
  });

  it('maps SIP outcomes to failover reasons; other answers do not move', () => {
    expect(mgcFailureOf({ timedOut: true })).toBe('timeout');
    expect(mgcFailureOf({ status: 408 })).toBe('timeout');
    expect(mgcFailureOf({ transportError: true })).toBe('transport');
    expect(mgcFailureOf({ status: 503 })).toBe('unavailable');
    expect(mgcFailureOf({ status: 401 })).toBeUndefined();
    expect(mgcFailureOf({ status: 200 })).toBeUndefined();
  });
});
