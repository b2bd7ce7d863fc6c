import { create } from 'zustand';
import type { CallLogDetail, CallLogEntry, CallLogExportFormat, CallLogFile, CallLogFilter, CallLogPage } from '../../core/api/call-log-types.js';
import { historyFilter, HistoryQueryError, type HistoryQuery } from '../../core/api/history-query.js';
import type { PhoneApi } from '../../core/api/phone-api.js';
import { PhoneError } from '../../core/api/phone-error.js';

/** Rows fetched per history request; the list asks for the next page as the user scrolls near the end. */
export const historyPageSize = 200;

/** The search fields of the history view, as typed (the same forms `veilphone logs list` reads). */
export interface HistorySearch {
  number: string;
  callId: string;
  since: string;
  until: string;
  result: string;
  status: string;
  direction: string;
  anonymous: boolean;
}

export const emptySearch: HistorySearch = { number: '', callId: '', since: '', until: '', result: '', status: '', direction: '', anonymous: false };

export interface HistoryState {
  api?: PhoneApi;
  search: HistorySearch;
  /** Why the search cannot run (a code the view turns into words), with the field at fault. */
  searchError?: { code: string; message: string };
  rows: CallLogEntry[];
  next?: CallLogPage['next'];
  loading: boolean;
  /** Bumped on every new search, so a slow answer to an older one is dropped. */
  generation: number;
  selectedId?: string;
  detail?: CallLogDetail;
  detailError?: { code: string; message: string };
  exporting?: CallLogExportFormat;
  attach(api: PhoneApi): void;
  setSearch(change: Partial<HistorySearch>): void;
  reload(): Promise<void>;
  /** New or changed calls at the top (a call just ended), keeping the rows already scrolled through. */
  refresh(): Promise<void>;
  loadMore(): Promise<void>;
  select(id: string | undefined): Promise<void>;
  exportCalls(ids: string[], format: CallLogExportFormat): Promise<CallLogFile | undefined>;
}

function filterOf(search: HistorySearch): CallLogFilter {
  const query: HistoryQuery = { number: search.number, callId: search.callId, since: search.since, until: search.until, result: search.result, status: search.status, direction: search.direction, anonymous: search.anonymous };
  return historyFilter(query);
}

const errorOf = (error: unknown): { code: string; message: string } => ({ code: error instanceof PhoneError || error instanceof HistoryQueryError ? error.code : 'INTERNAL', message: (error as Error).message });

/**
 * The call history as the history view and the diagnostics pane see it: a search, the rows loaded so far (newest
 * first, page by page through PhoneApi's `history` cursor), and one selected call with its trace.
 */
export const useHistory = create<HistoryState>((set, get) => ({
  search: emptySearch,
  rows: [],
  loading: false,
  generation: 0,

  attach(api) {
    set({ api });
  },

  setSearch(change) {
    set({ search: { ...get().search, ...change } });
    void get().reload();
  },

  async reload() {
    const { api, search } = get();
    const generation = get().generation + 1;
    let filter: CallLogFilter;
    try {
      filter = filterOf(search);
    } catch (error) {
      set({ generation, searchError: errorOf(error), rows: [], next: undefined, loading: false });
      return;
    }
    set({ generation, searchError: undefined, loading: api !== undefined });
    if (!api) return;
    try {
      const page = await api.history({ ...filter, limit: historyPageSize });
      if (get().generation !== generation) return;
      set({ rows: page.calls, next: page.next, loading: false });
    } catch (error) {
      if (get().generation === generation) set({ searchError: errorOf(error), loading: false });
    }
  },

  async refresh() {
    const { api, search, generation, rows, next } = get();
    if (!api || get().searchError || rows.length === 0) return get().reload();
    try {
      const page = await api.history({ ...filterOf(search), limit: historyPageSize });
      if (get().generation !== generation) return;
      const last = page.calls[page.calls.length - 1];
      if (!last || !page.next) {
        set({ rows: page.calls, next: page.next });
        return;
      }
      const older = rows.filter((r) => r.startedAt < last.startedAt || (r.startedAt === last.startedAt && r.id < last.id));
      set({ rows: [...page.calls, ...older], next: older.length > 0 ? next : page.next });
    } catch (error) {
      if (get().generation === generation) set({ searchError: errorOf(error) });
    }
  },

  async loadMore() {
    const { api, search, next, loading, generation, rows } = get();
    if (!api || !next || loading) return;
    set({ loading: true });
    try {
      const page = await api.history({ ...filterOf(search), limit: historyPageSize, before: next });
      if (get().generation !== generation) return;
      set({ rows: [...rows, ...page.calls], next: page.next, loading: false });
    } catch (error) {
      if (get().generation === generation) set({ searchError: errorOf(error), loading: false });
    }
  },

  async select(id) {
    set({ selectedId: id, detail: undefined, detailError: undefined });
    const api = get().api;
    if (id === undefined || !api) return;
    try {
      const detail = await api.callDetail(id);
      if (get().selectedId !== id) return;
      if (detail) set({ detail });
      else set({ detailError: { code: 'UNKNOWN_CALL', message: id } });
    } catch (error) {
      if (get().selectedId === id) set({ detailError: errorOf(error) });
    }
  },

  async exportCalls(ids, format) {
    const api = get().api;
    if (!api) return undefined;
    set({ exporting: format });
    try {
      return await api.exportCalls(ids, format);
    } catch (error) {
      set({ detailError: errorOf(error) });
      return undefined;
    } finally {
      set({ exporting: undefined });
    }
  },
}));
