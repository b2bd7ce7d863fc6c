import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HouseholdError, type HouseholdErrorCode } from '../../core/household/household-error.js';
import { AddressDatabase, type AddressDatabaseOptions, type AddressDatabaseSnapshot, type RoomReport } from './address-database.js';

export interface ManagementServerOptions extends AddressDatabaseOptions {
  /** Where gateways reach it (default 127.0.0.1, port 0: a free one). In a building network, its primary LAN address. */
  address?: string;
  port?: number;
}

export interface ManagementCounters {
  /** Requests answered, by kind (Fig. 14: allocate 142, delete 144, report 141/122). */
  handled: Record<'allocate' | 'report' | 'delete' | 'rooms', number>;
  /** Requests refused, by error code. */
  refused: Partial<Record<HouseholdErrorCode, number>>;
}

export type ManagementEvent = { type: 'allocated'; room: string; addresses: string[] } | { type: 'reported'; room: string } | { type: 'deleted'; room: string; addresses: string[] };

/** Bodies above this are refused: a room report of 256 addresses is well under 32 KiB. */
const MAX_BODY = 64 * 1024;

const statusOf: Record<HouseholdErrorCode, number> = {
  BAD_NUMBER: 400,
  BAD_MESSAGE: 400,
  UNKNOWN_ROOM: 404,
  ROOM_FULL: 409,
  NOT_ALLOTTED: 409,
  ROOM_VACATED: 409,
  NO_ALLOCATION: 409,
  MANAGEMENT_UNREACHABLE: 502,
  STORE_FAILED: 500,
};

/**
 * The duplicate private network management server (seed 001 Fig. 5, Fig. 14) with the DHCP server 15 folded in
 * (¶[33] allows servers to be integrated): gateways send it allocation requests, reports of every change and
 * deletion requests as JSON over HTTP (docs/household.md), and it answers from its database on disk.
 */
export class ManagementServer {
  readonly counters: ManagementCounters = { handled: { allocate: 0, report: 0, delete: 0, rooms: 0 }, refused: {} };
  private readonly listeners = new Set<(event: ManagementEvent) => void>();
  /** Where it listened (kept: a stopped server still names where it was). */
  private bound: { address: string; port: number } = { address: '', port: 0 };

  private constructor(
    private readonly server: http.Server,
    readonly database: AddressDatabase,
  ) {}

  static async start(options: ManagementServerOptions): Promise<ManagementServer> {
    const database = new AddressDatabase(options);
    const server = http.createServer((request, response) => void self.handle(request, response));
    const self = new ManagementServer(server, database);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.address ?? '127.0.0.1', () => resolve());
    });
    const { address, port } = server.address() as AddressInfo;
    self.bound = { address, port };
    return self;
  }

  get endpoint(): { address: string; port: number } {
    return { ...this.bound };
  }

  get url(): string {
    const { address, port } = this.endpoint;
    return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  on(listener: (event: ManagementEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): AddressDatabaseSnapshot & { counters: ManagementCounters } {
    return { ...this.database.snapshot(), counters: structuredClone(this.counters) };
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const send = (status: number, body: unknown): void => {
      response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(JSON.stringify(body));
    };
    try {
      const path = new URL(request.url ?? '/', 'http://management.invalid').pathname;
      if (request.method === 'GET' && path === '/rooms') {
        this.counters.handled.rooms++;
        return send(200, this.database.snapshot());
      }
      if (request.method !== 'POST') throw new HouseholdError('BAD_MESSAGE', `${request.method} ${path.slice(0, 40)}: only GET /rooms and POST /allocate, /report, /delete`);
      const body = await readJson(request);
      const room = text(body.room, 'room');
      switch (path) {
        case '/allocate': {
          const count = body.count === undefined ? undefined : integer(body.count, 'count');
          const addresses = this.database.allocate(room, count);
          this.counters.handled.allocate++;
          this.emit({ type: 'allocated', room, addresses });
          const record = this.database.room(room);
          // a gateway (re)starting learns which terminals hold which address, so a restart forgets nothing allotted
          return send(200, { room, addresses, all: record.addresses, terminals: record.terminals });
        }
        case '/report': {
          this.database.report(room, reportOf(body));
          this.counters.handled.report++;
          this.emit({ type: 'reported', room });
          return send(200, { room });
        }
        case '/delete': {
          const addresses = body.addresses === undefined ? undefined : list(body.addresses, 'addresses');
          const freed = this.database.release(room, addresses);
          this.counters.handled.delete++;
          this.emit({ type: 'deleted', room, addresses: freed });
          return send(200, { room, freed });
        }
        default:
          throw new HouseholdError('BAD_MESSAGE', `no ${path.slice(0, 40)}`);
      }
    } catch (error) {
      const e = error instanceof HouseholdError ? error : new HouseholdError('BAD_MESSAGE', (error as Error).message);
      this.counters.refused[e.code] = (this.counters.refused[e.code] ?? 0) + 1;
      send(statusOf[e.code], { code: e.code, message: e.message });
    }
  }

  private emit(event: ManagementEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

async function readJson(request: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HouseholdError('BAD_MESSAGE', `body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new HouseholdError('BAD_MESSAGE', `not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HouseholdError('BAD_MESSAGE', 'the body must be a JSON object');
  return parsed as Record<string, unknown>;
}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) throw new HouseholdError('BAD_MESSAGE', `${name} must be a string of 1-64 characters`);
  return value;
}

function integer(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new HouseholdError('BAD_MESSAGE', `${name} must be an integer`);
  return value;
}

function list(value: unknown, name: string): string[] {
  if (!Array.isArray(value) || value.length > 1024) throw new HouseholdError('BAD_MESSAGE', `${name} must be a list of at most 1024 addresses`);
  return value.map((v, i) => text(v, `${name}[${i}]`));
}

function endpoint(value: unknown, name: string): { address: string; port: number } | undefined {
  if (value === undefined) return undefined;
  const e = value as { address?: unknown; port?: unknown };
  if (typeof e !== 'object' || e === null) throw new HouseholdError('BAD_MESSAGE', `${name} must be { address, port }`);
  const port = integer(e.port, `${name}.port`);
  if (port < 1 || port > 65535) throw new HouseholdError('BAD_MESSAGE', `${name}.port must be 1-65535`);
  return { address: text(e.address, `${name}.address`), port };
}

function reportOf(body: Record<string, unknown>): RoomReport {
  if (!Array.isArray(body.terminals) || body.terminals.length > 1024) throw new HouseholdError('BAD_MESSAGE', 'terminals must be a list of at most 1024 { address, client }');
  const terminals = body.terminals.map((t: unknown, i) => {
    const entry = t as { address?: unknown; client?: unknown };
    if (typeof entry !== 'object' || entry === null) throw new HouseholdError('BAD_MESSAGE', `terminals[${i}] must be { address, client }`);
    return { address: text(entry.address, `terminals[${i}].address`), ...(entry.client !== undefined ? { client: text(entry.client, `terminals[${i}].client`) } : {}) };
  });
  const sip = endpoint(body.sip, 'sip');
  const dhcp = endpoint(body.dhcp, 'dhcp');
  return { terminals, ...(sip ? { sip } : {}), ...(dhcp ? { dhcp } : {}) };
}
