import { HouseholdError } from './household-error.js';

/**
 * A number of the duplicate private network (seed 001 ¶[55]): `100-1101-1201-1` is area 100, building 1101, room
 * 1201, terminal 1. A number of three groups names the room itself, the same as terminal 0 (¶[58]).
 */
export interface HouseholdNumber {
  area: string;
  building: string;
  room: string;
  /** 0 is the room's gateway: dialling it rings every terminal of the room (¶[57]); absent when dialled as the room. */
  terminal?: number;
}

/** Groups of 1-8 digits; a terminal index of at most 3 digits (a room has far fewer than 1000 addresses). */
const numberPattern = /^(\d{1,8})-(\d{1,8})-(\d{1,8})(?:-(\d{1,3}))?$/;

/** Whether `text` is written as a household number (dashes kept): the dialler must not squash it into digits. */
export function isHouseholdNumber(text: string): boolean {
  return numberPattern.test(text.trim());
}

/** Parse `area-building-room[-terminal]`; anything else is a typed BAD_NUMBER. */
export function parseHouseholdNumber(text: string): HouseholdNumber {
  const match = numberPattern.exec(text.trim());
  if (!match) throw new HouseholdError('BAD_NUMBER', `"${text.slice(0, 40)}" is not a household number area-building-room[-terminal] (seed 001 ¶[55])`);
  const [, area, building, room, terminal] = match;
  return { area: area!, building: building!, room: room!, ...(terminal !== undefined ? { terminal: Number(terminal) } : {}) };
}

/** The room's own number `area-building-room` (¶[58]: what dialling only part of the number reaches). */
export function roomNumber(number: HouseholdNumber): string {
  return `${number.area}-${number.building}-${number.room}`;
}

/** The number of terminal `index` of a room (`roomNumber-index`); index 0 is the gateway (¶[57]). */
export function terminalNumber(room: string, index: number): string {
  const parsed = parseHouseholdNumber(room);
  if (parsed.terminal !== undefined) throw new HouseholdError('BAD_NUMBER', `${room} is a terminal's number, not a room's`);
  if (!Number.isInteger(index) || index < 0 || index > 999) throw new HouseholdError('BAD_NUMBER', `terminal index ${index} is not 0-999`);
  return `${roomNumber(parsed)}-${index}`;
}

/** `-0` or the bare room number: the call goes to every terminal of the room (¶[57] multicast, ¶[58]). */
export function ringsWholeRoom(number: HouseholdNumber): boolean {
  return number.terminal === undefined || number.terminal === 0;
}

/** The building's prefix `area-building`: the gatekeeper's share of the numbering plan (¶[55]). */
export function buildingOf(number: HouseholdNumber): string {
  return `${number.area}-${number.building}`;
}

/** Whether `number` is in `room` (given as `area-building-room`). */
export function inRoom(number: HouseholdNumber, room: string): boolean {
  return roomNumber(number) === room;
}

/**
 * ¶[57]: the room's addresses in order; the first is the gateway's (number `-0`), terminal N has the (N+1)-th.
 * Returns the terminal index an address stands for, or undefined when it is not one of the room's.
 */
export function terminalIndexOf(addresses: readonly string[], address: string): number | undefined {
  const index = addresses.indexOf(address);
  return index < 0 ? undefined : index;
}

/**
 * Whether an incoming call at terminal `own` rang the whole room or this terminal (¶[57]-[58]), from the number the
 * caller dialled (the To user, which every hop keeps); undefined when `own` or `dialled` is no household number, or
 * the call was for another room.
 */
export function ringScope(own: string, dialled: string | undefined): 'room' | 'terminal' | undefined {
  if (dialled === undefined || !isHouseholdNumber(own) || !isHouseholdNumber(dialled)) return undefined;
  const mine = parseHouseholdNumber(own);
  const called = parseHouseholdNumber(dialled);
  if (roomNumber(mine) !== roomNumber(called)) return undefined;
  if (ringsWholeRoom(called)) return 'room';
  return called.terminal === mine.terminal ? 'terminal' : undefined;
}
