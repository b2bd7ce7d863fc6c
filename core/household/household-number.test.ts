import { describe, expect, it } from 'vitest';
import { HouseholdError } from './household-error.js';
import { buildingOf, isHouseholdNumber, parseHouseholdNumber, ringScope, ringsWholeRoom, roomNumber, terminalIndexOf, terminalNumber } from './household-number.js';

describe('household numbers (seed 001 ¶[55], ¶[57]-[58])', () => {
  it('reads area, building, room and terminal', () => {
    expect(parseHouseholdNumber('100-1101-1201-3')).toEqual({ area: '100', building: '1101', room: '1201', terminal: 3 });
    expect(parseHouseholdNumber(' 100-1101-1201 ')).toEqual({ area: '100', building: '1101', room: '1201' });
  });

  it('the room number and -0 ring the whole room; -N rings one terminal', () => {
    expect(ringsWholeRoom(parseHouseholdNumber('100-1101-1201'))).toBe(true);
    expect(ringsWholeRoom(parseHouseholdNumber('100-1101-1201-0'))).toBe(true);
    expect(ringsWholeRoom(parseHouseholdNumber('100-1101-1201-2'))).toBe(false);
  });

  it('builds terminal numbers, the room and the building', () => {
    expect(terminalNumber('100-1101-1201', 0)).toBe('100-1101-1201-0');
    expect(terminalNumber('100-1101-1201', 12)).toBe('100-1101-1201-12');
    expect(roomNumber(parseHouseholdNumber('100-1101-1201-7'))).toBe('100-1101-1201');
    expect(buildingOf(parseHouseholdNumber('100-1101-1201-7'))).toBe('100-1101');
    expect(terminalIndexOf(['127.0.0.1', '127.0.0.2'], '127.0.0.2')).toBe(1);
    expect(terminalIndexOf(['127.0.0.1'], '127.0.0.9')).toBeUndefined();
  });

  it('refuses what is not a household number with a typed BAD_NUMBER', () => {
    for (const bad of ['100110112011', '100-1101', '100-1101-1201-1-2', 'a-b-c', '100-1101-1201-1000', '', '100--1201']) {
      expect(isHouseholdNumber(bad)).toBe(false);
      expect(() => parseHouseholdNumber(bad)).toThrow(HouseholdError);
    }
    expect(() => terminalNumber('100-1101-1201-1', 2)).toThrow(/terminal's number/);
    expect(() => terminalNumber('100-1101-1201', -1)).toThrow(HouseholdError);
  });
});

describe('ringScope (seed 001 ¶[57]-[58])', () => {
  it('says whether a call for the room or for this terminal rang it', () => {
    expect(ringScope('100-1101-1201-2', '100-1101-1201')).toBe('room');
    expect(ringScope('100-1101-1201-2', '100-1101-1201-0')).toBe('room');
    expect(ringScope('100-1101-1201-2', '100-1101-1201-2')).toBe('terminal');
    expect(ringScope('100-1101-1201-2', '100-1101-1201-3')).toBeUndefined();
    expect(ringScope('100-1101-1201-2', '100-1101-1202')).toBeUndefined();
    expect(ringScope('alice', '100-1101-1201')).toBeUndefined();
    expect(ringScope('100-1101-1201-2', undefined)).toBeUndefined();
  });
});
