import { HouseholdError, type HouseholdErrorCode } from '../../core/household/household-error.js';
import type { RoomReport } from './address-database.js';

const codes = new Set<HouseholdErrorCode>(['BAD_NUMBER', 'BAD_MESSAGE', 'UNKNOWN_ROOM', 'ROOM_FULL', 'NOT_ALLOTTED', 'ROOM_VACATED', 'NO_ALLOCATION', 'STORE_FAILED']);

/** A room gateway's side of the management protocol (docs/household.md): JSON over HTTP to the management server. */
export class ManagementClient {
  constructor(
    /** `http://address:port` of the management server. */
    readonly url: string,
    private readonly timeoutMs = 5000,
  ) {}

  /** Fig. 9 step 96 (the room's first addresses) and Fig. 10 step 102 (one more): the addresses given now, and all the room's. */
  allocate(room: string, count?: number): Promise<{ addresses: string[]; all: string[]; terminals?: Record<string, string> }> {
    return this.post('/allocate', { room, ...(count !== undefined ? { count } : {}) });
  }

  /** Fig. 12 step 122: what the room's terminals hold now. */
  async report(room: string, report: RoomReport): Promise<void> {
    await this.post('/report', { room, ...report });
  }

  /** Fig. 11 step 111: every address of the room back to the building. */
  async release(room: string, addresses: string[]): Promise<string[]> {
    return (await this.post<{ freed: string[] }>('/delete', { room, addresses })).freed;
  }

  private async post<T>(path: string, body: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new HouseholdError('MANAGEMENT_UNREACHABLE', `management server ${this.url}: ${(error as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = await response.json();
    } catch (error) {
      throw new HouseholdError('MANAGEMENT_UNREACHABLE', `management server ${this.url}${path} answered ${response.status} without JSON: ${(error as Error).message}`);
    }
    if (!response.ok) {
      const e = parsed as { code?: string; message?: string };
      const code = codes.has(e.code as HouseholdErrorCode) ? (e.code as HouseholdErrorCode) : 'MANAGEMENT_UNREACHABLE';
      throw new HouseholdError(code, e.message ?? `management server answered ${response.status}`);
    }
    return parsed as T;
  }
}
