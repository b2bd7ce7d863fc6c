/** Which rows of a long list to render: only those in view, plus a margin so fast scrolling shows no gaps. */
export interface VirtualWindow {
  /** First row to render (inclusive) and last (exclusive). */
  start: number;
  end: number;
  /** Pixel offset of the first rendered row, and the height of the whole list. */
  offsetTop: number;
  totalHeight: number;
  /** The list should fetch its next page: the view is within `prefetchRows` of the rows loaded so far. */
  wantsMore: boolean;
}

export interface VirtualWindowInput {
  scrollTop: number;
  viewportHeight: number;
  rowHeight: number;
  /** Rows loaded so far. */
  rowCount: number;
  overscan?: number;
  prefetchRows?: number;
}

/** The window of a fixed-row-height list (a history of 100,000 calls renders a few dozen rows at a time). */
export function virtualWindow(input: VirtualWindowInput): VirtualWindow {
  const { rowHeight, rowCount } = input;
  const overscan = input.overscan ?? 8;
  const prefetch = input.prefetchRows ?? 50;
  const scrollTop = Math.max(0, input.scrollTop);
  const firstVisible = Math.floor(scrollTop / rowHeight);
  const visibleCount = Math.ceil(Math.max(0, input.viewportHeight) / rowHeight) + 1;
  const start = Math.min(rowCount, Math.max(0, firstVisible - overscan));
  const end = Math.min(rowCount, firstVisible + visibleCount + overscan);
  return { start, end, offsetTop: start * rowHeight, totalHeight: rowCount * rowHeight, wantsMore: firstVisible + visibleCount + prefetch >= rowCount };
}
