import type { AccountConfig } from '../../core/api/phone-types.js';

/** The account editor's household part (seed 001 Fig. 8): whether the account is a terminal, of which room and gateway. */
export interface HouseholdFields {
  household: boolean;
  /** The room gateway's allocation service `ADDRESS:PORT`, or the interface on the room's link. */
  gateway: string;
  /** `area-building-room` (¶[55]). */
  room: string;
}

export function householdFieldsOf(account: AccountConfig | undefined): HouseholdFields {
  return { household: account?.household !== undefined, gateway: account?.household?.gateway ?? '', room: account?.household?.room ?? '' };
}

const interfaceName = /^[A-Za-z][A-Za-z0-9_.@-]{0,14}$/;
const roomNumber = /^\d{1,6}-\d{1,6}-\d{1,6}$/;

/**
 * What is wrong with the household fields, as the key of the words the editor shows next to them, or undefined. The
 * core checks the same again (account-config-check.ts) and the gateway has the last word on the room.
 */
export function householdProblem(fields: HouseholdFields): { field: 'gateway' | 'room'; key: string } | undefined {
  if (!fields.household) return undefined;
  const gateway = fields.gateway.trim();
  if (gateway === '') return { field: 'gateway', key: 'householdGatewayMissing' };
  const endpoint = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(gateway);
  if (endpoint) {
    const port = Number(endpoint[2]);
    if (endpoint[1]!.split('.').some((n) => Number(n) > 255) || port < 1 || port > 65535) return { field: 'gateway', key: 'householdGatewayInvalid' };
  } else if (!interfaceName.test(gateway)) return { field: 'gateway', key: 'householdGatewayInvalid' };
  const room = fields.room.trim();
  if (room === '') return { field: 'room', key: 'householdRoomMissing' };
  // ¶[55]: a terminal's own number has a fourth group; the room is what the terminal plugs into
  if (/^\d{1,6}-\d{1,6}-\d{1,6}-\d{1,6}$/.test(room)) return { field: 'room', key: 'householdRoomIsTerminal' };
  if (!roomNumber.test(room)) return { field: 'room', key: 'householdRoomInvalid' };
  return undefined;
}

/**
 * The account with its household part: a terminal sends no user or server (its gateway gives the number and itself as
 * the server) and speaks UDP; an account that stops being a terminal keeps the number it had as its user.
 */
export function withHousehold(config: AccountConfig, fields: HouseholdFields): AccountConfig {
  const { household, ...rest } = config;
  if (!fields.household) {
    if (household === undefined) return rest;
    // the allotted address and the building's domain were the allocation's, and go back with it
    const { localAddress: _address, domain: _domain, ...plain } = rest;
    return plain;
  }
  return { ...rest, user: '', server: '', transport: 'udp', household: { gateway: fields.gateway.trim(), room: fields.room.trim() } };
}
