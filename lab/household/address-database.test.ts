import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HouseholdError } from '../../core/household/household-error.js';
import { AddressDatabase } from './address-database.js';

const pool = { first: '127.77.0.1', last: '127.77.0.8' };
const rooms = { '100-1101-1201': 3, '100-1101-1202': 2 };

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof HouseholdError ? error.code : `not typed: ${(error as Error).message}`;
  }
  return undefined;
}

describe('the management server database (seed 001 Fig. 5, Fig. 14)', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'household-db-'));
    file = path.join(dir, 'data', 'household.json');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gives a room its default addresses once, lowest first; the first is its gateway -0', () => {
    const db = new AddressDatabase({ pool, rooms, file });
    expect(db.allocate('100-1101-1201')).toEqual(['127.77.0.1', '127.77.0.2', '127.77.0.3']);
    expect(db.allocate('100-1101-1201')).toEqual([]); // a restarting gateway asks again: nothing new
    expect(db.allocate('100-1101-1202')).toEqual(['127.77.0.4', '127.77.0.5']);
    const room = db.snapshot().rooms['100-1101-1201']!;
    expect(room.gateway).toBe('127.77.0.1');
    expect(room.addresses.map((a) => [a.number, a.state])).toEqual([
      ['100-1101-1201-0', 'gateway'],
      ['100-1101-1201-1', 'free'],
      ['100-1101-1201-2', 'free'],
    ]);
    expect(db.numberOf('127.77.0.5')).toEqual({ room: '100-1101-1202', number: '100-1101-1202-1', index: 1 });
  });

  it('Fig. 10 step 102: one more address, and ROOM_FULL when the building has none left (nothing given then)', () => {
    const db = new AddressDatabase({ pool, rooms, file });
    db.allocate('100-1101-1201');
    db.allocate('100-1101-1202');
    expect(db.allocate('100-1101-1201', 3)).toEqual(['127.77.0.6', '127.77.0.7', '127.77.0.8']);
    expect(code(() => db.allocate('100-1101-1202', 1))).toBe('ROOM_FULL');
    expect(db.room('100-1101-1202').addresses).toHaveLength(2);
    expect(db.snapshot().pool.free).toBe(0);
  });

  it('Fig. 12 step 122: reports mark the terminals; an address not the room\'s is refused and nothing changes', () => {
    const db = new AddressDatabase({ pool, rooms, file });
    db.allocate('100-1101-1201');
    db.allocate('100-1101-1202');
    db.report('100-1101-1201', { terminals: [{ address: '127.77.0.3', client: '01aa' }], sip: { address: '127.77.0.1', port: 5060 } });
    let room = db.snapshot().rooms['100-1101-1201']!;
    expect(room.allotted).toEqual(['127.77.0.1', '127.77.0.3']);
    expect(room.free).toEqual(['127.77.0.2']);
    expect(room.sip).toBe('127.77.0.1:5060');
    expect(code(() => db.report('100-1101-1201', { terminals: [{ address: '127.77.0.4' }] }))).toBe('NOT_ALLOTTED');
    expect(code(() => db.report('100-1101-1201', { terminals: [{ address: '127.77.0.1' }] }))).toBe('NOT_ALLOTTED');
    room = db.snapshot().rooms['100-1101-1201']!;
    expect(room.allotted).toEqual(['127.77.0.1', '127.77.0.3']);
  });

  it('Fig. 11: a vacated room gives every address back; they go to the next room that asks', () => {
    const db = new AddressDatabase({ pool, rooms, file });
    db.allocate('100-1101-1201');
    db.allocate('100-1101-1202');
    expect(code(() => db.release('100-1101-1202', ['127.77.0.5']))).toBe('BAD_MESSAGE'); // a terminal's alone is reported, not deleted
    expect(code(() => db.release('100-1101-1202', ['127.77.0.1']))).toBe('NOT_ALLOTTED');
    expect(db.release('100-1101-1202', ['127.77.0.4', '127.77.0.5'])).toEqual(['127.77.0.4', '127.77.0.5']);
    const room = db.snapshot().rooms['100-1101-1202']!;
    expect(room).toMatchObject({ size: 0, vacated: true, allotted: [], free: [] });
    expect(code(() => db.report('100-1101-1202', { terminals: [] }))).toBe('ROOM_VACATED');
    expect(db.allocate('100-1101-1201', 2)).toEqual(['127.77.0.4', '127.77.0.5']);
  });

  it('a restart forgets nothing allotted: the file is read back, 0600', () => {
    const before = new AddressDatabase({ pool, rooms, file });
    before.allocate('100-1101-1201');
    before.report('100-1101-1201', { terminals: [{ address: '127.77.0.2', client: '01bb' }] });
    before.allocate('100-1101-1202');
    before.release('100-1101-1202');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const after = new AddressDatabase({ pool, rooms, file });
    expect(after.snapshot()).toEqual(before.snapshot());
    expect(after.allocate('100-1101-1201')).toEqual([]);
    expect(after.allocate('100-1101-1202')).toEqual(['127.77.0.4', '127.77.0.5']);
  });

  it('bad configuration and a damaged file are typed errors', () => {
    expect(code(() => new AddressDatabase({ pool, rooms: { '100-1101-1201-1': 3 } }))).toBe('BAD_NUMBER');
    expect(code(() => new AddressDatabase({ pool, rooms: { '100-1101-1201': 1 } }))).toBe('BAD_MESSAGE');
    expect(code(() => new AddressDatabase({ pool: { first: '127.77.0.9', last: '127.77.0.1' }, rooms }))).toBe('BAD_MESSAGE');
    const db = new AddressDatabase({ pool, rooms });
    expect(code(() => db.allocate('100-1101-1299'))).toBe('UNKNOWN_ROOM');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{ not json');
    expect(code(() => new AddressDatabase({ pool, rooms, file }))).toBe('STORE_FAILED');
    fs.writeFileSync(file, JSON.stringify({ version: 1, rooms: [{ room: '100-1101-1201', addresses: ['10.0.0.1'], terminals: {}, vacated: false }] }));
    expect(code(() => new AddressDatabase({ pool, rooms, file }))).toBe('STORE_FAILED');
    fs.writeFileSync(file, JSON.stringify({ version: 1, rooms: [{ room: '100-1101-1201', addresses: 'x' }] }));
    expect(code(() => new AddressDatabase({ pool, rooms, file }))).toBe('STORE_FAILED');
  });
});
