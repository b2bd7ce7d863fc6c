const units: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `--since 2h` (that long ago), `--since 2026-11-24` or `--since 2026-11-24T10:00:00Z`; milliseconds since the epoch. */
export function parseTimeOption(text: string, now = Date.now()): number {
  const relative = /^(\d{1,6})([smhdw])$/.exec(text.trim());
  if (relative) return now - Number(relative[1]) * units[relative[2]!]!;
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())) {
    const at = Date.parse(text.trim());
    if (Number.isFinite(at)) return at;
  }
  throw new Error(`"${text}" is neither a time like 2026-11-24T10:00:00Z nor an age like 30m, 2h, 7d`);
}
