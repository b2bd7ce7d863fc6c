import { describe, expect, it } from 'vitest';
import { parseTimeOption } from './time-option.js';

describe('time options', () => {
  const now = Date.parse('2026-11-24T12:00:00Z');
  it('reads ages, compound ages, ISO times and the words now/today/yesterday', () => {
    expect(parseTimeOption('2h', now)).toBe(now - 7_200_000);
    expect(parseTimeOption('1h30m', now)).toBe(now - 5_400_000);
    expect(parseTimeOption('3d', now)).toBe(now - 3 * 86_400_000);
    expect(parseTimeOption('2026-11-20T08:00:00Z', now)).toBe(Date.parse('2026-11-20T08:00:00Z'));
    expect(parseTimeOption('now', now)).toBe(now);
    const today = new Date(now);
    today.setHours(0, 0, 0, 0);
    expect(parseTimeOption('today', now)).toBe(today.getTime());
    expect(parseTimeOption('yesterday', now)).toBe(today.getTime() - 86_400_000 + (new Date(today.getTime() - 86_400_000).getTimezoneOffset() - today.getTimezoneOffset()) * 60_000);
    for (const bad of ['yesterday-ish', '2x', '', '2026-13-45', 'h2']) expect(() => parseTimeOption(bad, now), bad).toThrowError(expect.objectContaining({ code: 'INVALID_TIME' }));
  });
});
