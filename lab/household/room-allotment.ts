import { terminalNumber } from '../../core/household/household-number.js';

/** One terminal of the room as its gateway holds it (Fig. 3 units 352-354, 363-364). */
export interface TerminalAllotment {
  index: number;
  address: string;
  number: string;
  /** The terminal's DHCP client id (hex): the key of the allocation. */
  client: string;
  /** `offered`: given in an OFFER, held a while; `bound`: the terminal took it (ACK). */
  state: 'offered' | 'bound';
  /** Until when an offer is held (epoch ms); bound allotments last until the terminal gives them back. */
  heldUntil: number;
}

/**
 * A room's addresses as its gateway deals them out (seed 001 ¶[57], ¶[60]-[61], ¶[64]): the first is the gateway's own
 * (`-0`), the (N+1)-th goes with number `-N`; a new terminal gets the lowest free one, so a withdrawn terminal's address
 * and number go to the next terminal that asks.
 */
export class RoomAllotment {
  private readonly held = new Map<number, TerminalAllotment>();
  private list: string[] = [];

  constructor(
    readonly room: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** The room's addresses, first (the gateway's) first. */
  get addresses(): readonly string[] {
    return this.list;
  }

  /** Fig. 9 step 97 / Fig. 10 step 102: addresses the management server gave the room. */
  add(addresses: readonly string[]): void {
    for (const a of addresses) if (!this.list.includes(a)) this.list.push(a);
  }

  /** The terminal's allotment, if it has one (offered or bound, not lapsed). */
  of(client: string): TerminalAllotment | undefined {
    this.lapse();
    for (const a of this.held.values()) if (a.client === client) return { ...a };
    return undefined;
  }

  holderOf(address: string): TerminalAllotment | undefined {
    this.lapse();
    const index = this.list.indexOf(address);
    const a = index > 0 ? this.held.get(index) : undefined;
    return a ? { ...a } : undefined;
  }

  /**
   * Fig. 10 steps 101/103: the terminal's existing allotment, else the lowest address yet to be allotted (`wanted`
   * first when it is free: a terminal asking again for its stored address, RFC 2131 §3.2), held as offered.
   * Undefined when the room has none left (step 101 → 102).
   */
  offer(client: string, holdMs: number, wanted?: string): TerminalAllotment | undefined {
    const existing = this.of(client);
    if (existing) return existing;
    const wantedIndex = wanted !== undefined ? this.list.indexOf(wanted) : -1;
    const index = wantedIndex > 0 && !this.held.has(wantedIndex) ? wantedIndex : this.freeIndex();
    if (index === undefined) return undefined;
    const allotment: TerminalAllotment = { index, address: this.list[index]!, number: terminalNumber(this.room, index), client, state: 'offered', heldUntil: this.now() + holdMs };
    this.held.set(index, allotment);
    return { ...allotment };
  }

  /**
   * A gateway restarting takes back what the management server says its terminals hold (address → client id), so a
   * terminal asking again for its address (RFC 2131 §3.2 INIT-REBOOT) keeps it and its number. Unknown addresses,
   * the gateway's own and entries without a client id are left out.
   */
  restore(terminals: Record<string, string>): void {
    for (const [address, client] of Object.entries(terminals)) {
      const index = this.list.indexOf(address);
      if (index < 1 || client === '' || this.held.has(index)) continue;
      this.held.set(index, { index, address, number: terminalNumber(this.room, index), client, state: 'bound', heldUntil: Number.POSITIVE_INFINITY });
    }
  }

  /** The terminal took its offer (DHCPACK): it now holds the address and number until it gives them back. */
  bind(client: string): TerminalAllotment | undefined {
    for (const a of this.held.values()) {
      if (a.client !== client) continue;
      a.state = 'bound';
      a.heldUntil = Number.POSITIVE_INFINITY;
      return { ...a };
    }
    return undefined;
  }

  /** Fig. 12 step 121: the terminal's address is yet to be allotted again. Returns what it held. */
  free(client: string): TerminalAllotment | undefined {
    for (const [index, a] of this.held) {
      if (a.client !== client) continue;
      this.held.delete(index);
      return { ...a };
    }
    return undefined;
  }

  /** Terminals holding an address now (the report of Fig. 12 step 122). */
  bound(): TerminalAllotment[] {
    this.lapse();
    return [...this.held.values()].filter((a) => a.state === 'bound').sort((x, y) => x.index - y.index).map((a) => ({ ...a }));
  }

  /** Addresses yet to be allotted (¶[64]). */
  unallotted(): string[] {
    this.lapse();
    return this.list.filter((_, index) => index > 0 && !this.held.has(index));
  }

  /** Fig. 11: everything goes; the room has no address left. */
  clear(): string[] {
    const all = this.list;
    this.list = [];
    this.held.clear();
    return all;
  }

  private freeIndex(): number | undefined {
    for (let index = 1; index < this.list.length; index++) if (!this.held.has(index)) return index;
    return undefined;
  }

  /** Offers never taken give their address back. */
  private lapse(): void {
    const now = this.now();
    for (const [index, a] of this.held) if (a.state === 'offered' && a.heldUntil <= now) this.held.delete(index);
  }
}
