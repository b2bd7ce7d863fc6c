/**
 * The seconds of a Retry-After header value (RFC 3261 §20.33: `delta-seconds [comment] *(; retry-param)`), or
 * undefined when it has none: delta-seconds is digits only, so `0x10`, `1e3`, `-5` and an empty value are no delay.
 * A value past 2^32-1 is taken as that (§25.1's delta-seconds bound); callers cap what they honour.
 */
export function retryAfterSeconds(value: string | undefined): number | undefined {
  const match = value === undefined ? null : /^[ \t]*(\d+)[ \t]*(?:[(;].*)?$/s.exec(value);
  if (!match) return undefined;
  return Math.min(Number(match[1]), 4_294_967_295);
}
