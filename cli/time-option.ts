const units: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export class TimeOptionError extends Error {
  override readonly name = 'TimeOptionError';
  readonly code = 'INVALID_TIME';
}

/**
 * `--since 2h` (that long ago; `1h30m` too), `now`, `today` and `yesterday` (local midnight), `2026-11-24` or
 * `2026-11-24T10:00:00Z`; milliseconds since the epoch.
 */
export function parseTimeOption(text: string, now = Date.now()): number {
  const value = text.trim().toLowerCase();
  if (value === 'now') return now;
  if (value === 'today' || value === 'yesterday') {
    const midnight = new Date(now);
    midnight.setHours(0, 0, 0, 0);
    if (value === 'yesterday') midnight.setDate(midnight.getDate() - 1);
    return midnight.getTime();
  }
  if (/^(\d{1,6}[smhdw])+$/.test(value)) {
    let ago = 0;
    for (const [, count, unit] of value.matchAll(/(\d{1,6})([smhdw])/g)) ago += Number(count) * units[unit!]!;
    return now - ago;
  }
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/i.test(text.trim())) {
    const at = Date.parse(text.trim());
    if (Number.isFinite(at)) return at;
  }
  throw new TimeOptionError(`"${text}" is neither a time like 2026-11-24T10:00:00Z nor an age like 30m, 2h, 7d (or now, today, yesterday)`);
}
