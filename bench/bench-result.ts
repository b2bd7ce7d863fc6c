/** What one benchmark reports: a markdown section for bench/RESULTS.md, measured beside its anchor in one run. */
export interface BenchResult {
  /** Section title; RESULTS.md keeps one section per title. */
  title: string;
  /** Markdown lines (tables, notes). */
  lines: string[];
  /** Veilphone ÷ anchor, by measure (lower is better for times). */
  ratios: Record<string, number>;
}

export function median(values: number[]): number {
  return quantile(values, 0.5);
}

export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

export function ms(value: number): string {
  return `${value.toFixed(2)} ms`;
}
