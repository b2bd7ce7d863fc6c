import fs from 'node:fs';
import path from 'node:path';
import { createPrivateDir, writePrivateFileAtomic } from '../../core/files/private-files.js';
import { HouseholdError } from '../../core/household/household-error.js';
import { parseHouseholdNumber, terminalNumber } from '../../core/household/household-number.js';
import { ipv4ToNumber, isIpv4, numberToIpv4 } from '../../core/lease/ipv4.js';

/** One address of a room as the database holds it (seed 001 ¶[40]: allotted, or yet to be allotted). */
export interface RoomAddress {
  address: string;
  /** ¶[57]: `-0` for the first (the gateway), `-N` for the (N+1)-th. */
  number: string;
  /** `gateway`: the room's own; `terminal`: allotted to a terminal (the gateway reported it); `free`: the room's, unused. */
  state: 'gateway' | 'terminal' | 'free';
  /** The terminal's DHCP client id (hex), when allotted. */
  client?: string;
}

/** A gateway's report of its room (Fig. 12 step 122): which of its addresses terminals hold, and where its SIP is. */
export interface RoomReport {
  terminals: Array<{ address: string; client?: string }>;
  /** Where the room's gateway takes SIP and DHCP (the gatekeeper relays calls for the room there). */
  sip?: { address: string; port: number };
  dhcp?: { address: string; port: number };
}

export interface RoomRecord {
  room: string;
  /** Addresses the room got so far, in the order it got them: the first is its gateway's (¶[60]). */
  addresses: string[];
  /** Allotted to terminals (address → client id, '' when unknown), as the gateway last reported. */
  terminals: Record<string, string>;
  sip?: { address: string; port: number };
  dhcp?: { address: string; port: number };
  /** Fig. 11: the room's gateway gave everything back; the room gets addresses again when its gateway asks. */
  vacated: boolean;
}

export interface AddressDatabaseOptions {
  /** The building's private addresses, inclusive (¶[43]: the DHCP server's to allot). */
  pool: { first: string; last: string };
  /** Rooms and how many addresses each gets at first (¶[40]: "a default form … when installing"), gateway included. */
  rooms: Record<string, number>;
  /** Where the database lives (¶[40]: "non-volatile memory"); none keeps it in memory only. */
  file?: string;
}

export interface AddressDatabaseSnapshot {
  pool: { first: string; last: string; free: number };
  rooms: Record<string, { size: number; vacated: boolean; gateway?: string; sip?: string; dhcp?: string; addresses: RoomAddress[]; allotted: string[]; free: string[] }>;
}

interface StoredDatabase {
  version: 1;
  rooms: RoomRecord[];
}

/**
 * The duplicate private network management server's database (seed 001 Fig. 5 unit 51, Fig. 14): the private
 * addresses given to each room, which of them terminals hold and which are yet to be allotted, and the building's
 * addresses no room has. Every change is written to disk before it is answered, so a restart forgets nothing.
 */
export class AddressDatabase {
  private readonly rooms = new Map<string, RoomRecord>();
  private readonly first: number;
  private readonly last: number;

  constructor(private readonly options: AddressDatabaseOptions) {
    if (!isIpv4(options.pool.first) || !isIpv4(options.pool.last)) throw new HouseholdError('BAD_MESSAGE', `the address pool ${options.pool.first}-${options.pool.last} is not two IPv4 addresses`);
    this.first = ipv4ToNumber(options.pool.first);
    this.last = ipv4ToNumber(options.pool.last);
    if (this.first > this.last) throw new HouseholdError('BAD_MESSAGE', `the address pool starts at ${options.pool.first}, after its end ${options.pool.last}`);
    for (const [room, size] of Object.entries(options.rooms)) {
      const parsed = parseHouseholdNumber(room);
      if (parsed.terminal !== undefined) throw new HouseholdError('BAD_NUMBER', `${room} is a terminal's number; rooms are area-building-room`);
      if (!Number.isInteger(size) || size < 2) throw new HouseholdError('BAD_MESSAGE', `room ${room} needs at least 2 addresses (its gateway's and one terminal's), got ${size}`);
    }
    this.load();
  }

  /** Fig. 14 step 141: the rooms the database knows. */
  roomNames(): string[] {
    return Object.keys(this.options.rooms);
  }

  room(room: string): RoomRecord {
    this.known(room);
    const record = this.rooms.get(room);
    return record ? structuredClone(record) : { room, addresses: [], terminals: {}, vacated: false };
  }

  /**
   * Fig. 14 steps 142-143, 146 (and Fig. 9 step 96 / Fig. 10 step 102 seen from here): give the room `count` more of
   * the building's free addresses, lowest first; without a count, its default size when it has none yet (and nothing
   * new when it has). ROOM_FULL when the building has not enough left: nothing is given then.
   */
  allocate(room: string, count?: number): string[] {
    this.known(room);
    const record = this.rooms.get(room) ?? { room, addresses: [], terminals: {}, vacated: false };
    // a gateway (re)starting asks without a count: the room's default when it has nothing, else what it has
    if (count === undefined && record.addresses.length > 0) return [];
    const wanted = count ?? this.options.rooms[room]!;
    if (!Number.isInteger(wanted) || wanted < 1 || wanted > 256) throw new HouseholdError('BAD_MESSAGE', `a room asks for 1-256 addresses at a time, not ${count}`);
    const free = this.freeAddresses(wanted);
    if (free.length < wanted) throw new HouseholdError('ROOM_FULL', `the building has ${free.length} free address(es), room ${room} asked for ${wanted}`);
    record.addresses.push(...free);
    record.vacated = false;
    this.rooms.set(room, record);
    this.save();
    return free;
  }

  /**
   * Fig. 12 step 122 / ¶[64]: the gateway's list of what its terminals hold now; the rest of the room's addresses are
   * yet to be allotted. An address that is not the room's is refused (NOT_ALLOTTED) and nothing changes.
   */
  report(room: string, report: RoomReport): void {
    this.known(room);
    const record = this.rooms.get(room);
    if (!record || record.addresses.length === 0) throw new HouseholdError('ROOM_VACATED', `room ${room} has no addresses to report on`);
    const terminals: Record<string, string> = {};
    for (const terminal of report.terminals) {
      const index = record.addresses.indexOf(terminal.address);
      if (index < 1) throw new HouseholdError('NOT_ALLOTTED', `${terminal.address} is not one of room ${room}'s terminal addresses`);
      terminals[terminal.address] = terminal.client ?? '';
    }
    record.terminals = terminals;
    if (report.sip) record.sip = { ...report.sip };
    if (report.dhcp) record.dhcp = { ...report.dhcp };
    this.save();
  }

  /**
   * Fig. 14 steps 144-146 with Fig. 11 (¶[62]-[63]): the room's first address is no longer in use, so none of its
   * addresses is: everything goes back to the building. A terminal's address is never deleted on its own: it stays
   * the room's, yet to be allotted (¶[64], reported by `report`), so the numbers of the others do not move. A list of
   * addresses must therefore name the first one (BAD_MESSAGE otherwise); an address not the room's is NOT_ALLOTTED.
   */
  release(room: string, addresses?: string[]): string[] {
    this.known(room);
    const record = this.rooms.get(room);
    if (!record || record.addresses.length === 0) return [];
    if (addresses !== undefined) {
      const unknown = addresses.filter((a) => !record.addresses.includes(a));
      if (unknown.length > 0) throw new HouseholdError('NOT_ALLOTTED', `${unknown.join(', ').slice(0, 80)} not room ${room}'s`);
      if (!addresses.includes(record.addresses[0]!)) throw new HouseholdError('BAD_MESSAGE', `a deletion request names the room's first address ${record.addresses[0]} (Fig. 11); terminals' addresses are reported, not deleted`);
    }
    const freed = [...record.addresses];
    this.rooms.set(room, { room, addresses: [], terminals: {}, vacated: true });
    this.save();
    return freed;
  }

  /** The room of a building address, and the number it stands for (¶[57]), for the gatekeeper's caller assertion. */
  numberOf(address: string): { room: string; number: string; index: number } | undefined {
    for (const record of this.rooms.values()) {
      const index = record.addresses.indexOf(address);
      if (index >= 0) return { room: record.room, number: terminalNumber(record.room, index), index };
    }
    return undefined;
  }

  snapshot(): AddressDatabaseSnapshot {
    const rooms: AddressDatabaseSnapshot['rooms'] = {};
    for (const room of this.roomNames()) {
      const record = this.room(room);
      const addresses: RoomAddress[] = record.addresses.map((address, index) => ({
        address,
        number: terminalNumber(room, index),
        state: index === 0 ? 'gateway' : address in record.terminals ? 'terminal' : 'free',
        ...(record.terminals[address] ? { client: record.terminals[address] } : {}),
      }));
      rooms[room] = {
        size: record.addresses.length,
        vacated: record.vacated,
        ...(record.addresses[0] !== undefined ? { gateway: record.addresses[0] } : {}),
        ...(record.sip ? { sip: `${record.sip.address}:${record.sip.port}` } : {}),
        ...(record.dhcp ? { dhcp: `${record.dhcp.address}:${record.dhcp.port}` } : {}),
        addresses,
        allotted: addresses.filter((a) => a.state !== 'free').map((a) => a.address),
        free: addresses.filter((a) => a.state === 'free').map((a) => a.address),
      };
    }
    return { pool: { ...this.options.pool, free: this.last - this.first + 1 - this.used().size }, rooms };
  }

  private known(room: string): void {
    if (!(room in this.options.rooms)) throw new HouseholdError('UNKNOWN_ROOM', `no room ${room.slice(0, 40)} in this building`);
  }

  private used(): Set<number> {
    return new Set([...this.rooms.values()].flatMap((r) => r.addresses.map(ipv4ToNumber)));
  }

  private freeAddresses(count: number): string[] {
    const used = this.used();
    const out: string[] = [];
    for (let n = this.first; n <= this.last && out.length < count; n++) if (!used.has(n)) out.push(numberToIpv4(n));
    return out;
  }

  private load(): void {
    const file = this.options.file;
    if (!file || !fs.existsSync(file)) return;
    let stored: StoredDatabase;
    try {
      stored = JSON.parse(fs.readFileSync(file, 'utf8')) as StoredDatabase;
    } catch (error) {
      throw new HouseholdError('STORE_FAILED', `cannot read the address database ${file}: ${(error as Error).message}`);
    }
    if (stored.version !== 1 || !Array.isArray(stored.rooms)) throw new HouseholdError('STORE_FAILED', `${file} is not an address database of version 1`);
    for (const record of stored.rooms) {
      const shaped = typeof record === 'object' && record !== null && typeof record.room === 'string' && Array.isArray(record.addresses) && record.addresses.every((a) => typeof a === 'string') && typeof record.terminals === 'object' && record.terminals !== null;
      if (!shaped) throw new HouseholdError('STORE_FAILED', `${file}: a room entry is not { room, addresses, terminals, vacated }`);
      // a room the configuration no longer has keeps nothing: its addresses are free again
      if (!(record.room in this.options.rooms)) continue;
      const inPool = record.addresses.every((a) => isIpv4(a) && ipv4ToNumber(a) >= this.first && ipv4ToNumber(a) <= this.last);
      if (!inPool) throw new HouseholdError('STORE_FAILED', `${file}: room ${record.room} holds addresses outside the pool`);
      this.rooms.set(record.room, record);
    }
  }

  private save(): void {
    const file = this.options.file;
    if (!file) return;
    try {
      createPrivateDir(path.dirname(file));
      const stored: StoredDatabase = { version: 1, rooms: [...this.rooms.values()] };
      writePrivateFileAtomic(file, `${JSON.stringify(stored, null, 2)}\n`, { sync: true });
    } catch (error) {
      throw new HouseholdError('STORE_FAILED', `cannot write the address database ${file}: ${(error as Error).message}`);
    }
  }
}
