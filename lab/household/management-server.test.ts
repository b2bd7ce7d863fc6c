import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HouseholdError } from '../../core/household/household-error.js';
import { ManagementClient } from './management-client.js';
import { ManagementServer } from './management-server.js';

const pool = { first: '127.77.1.1', last: '127.77.1.6' };
const rooms = { '100-1101-1201': 3, '100-1101-1202': 2 };

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return error instanceof HouseholdError ? error.code : `not typed: ${(error as Error).message}`;
  }
  return undefined;
}

describe('the management server over its wire (seed 001 Fig. 14, docs/household.md)', () => {
  let dir: string;
  let server: ManagementServer | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'household-mgmt-'));
  });
  afterEach(async () => {
    await server?.stop();
    server = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('allocates, takes reports, deletes and survives a restart', async () => {
    const file = path.join(dir, 'household.json');
    server = await ManagementServer.start({ pool, rooms, file });
    const client = new ManagementClient(server.url);
    expect(await client.allocate('100-1101-1201')).toMatchObject({ addresses: ['127.77.1.1', '127.77.1.2', '127.77.1.3'], all: ['127.77.1.1', '127.77.1.2', '127.77.1.3'] });
    expect(await client.allocate('100-1101-1201', 1)).toMatchObject({ addresses: ['127.77.1.4'], all: ['127.77.1.1', '127.77.1.2', '127.77.1.3', '127.77.1.4'] });
    await client.report('100-1101-1201', { terminals: [{ address: '127.77.1.2', client: '01aa' }], sip: { address: '127.77.1.1', port: 5070 } });
    expect(await client.allocate('100-1101-1202')).toMatchObject({ addresses: ['127.77.1.5', '127.77.1.6'] });
    expect(await codeOf(client.allocate('100-1101-1202', 1))).toBe('ROOM_FULL');
    expect(await client.release('100-1101-1202', ['127.77.1.5', '127.77.1.6'])).toEqual(['127.77.1.5', '127.77.1.6']);
    const before = server.snapshot();
    expect(before.counters.handled).toEqual({ allocate: 3, report: 1, delete: 1, rooms: 0 });
    expect(before.counters.refused).toEqual({ ROOM_FULL: 1 });
    await server.stop();

    server = await ManagementServer.start({ pool, rooms, file });
    const after = server.snapshot();
    expect(after.rooms).toEqual(before.rooms);
    expect(after.rooms['100-1101-1201']!.allotted).toEqual(['127.77.1.1', '127.77.1.2']);
    const listed = (await (await fetch(`${server.url}/rooms`)).json()) as { rooms: Record<string, { free: string[] }> };
    expect(listed.rooms['100-1101-1201']!.free).toEqual(['127.77.1.3', '127.77.1.4']);
  });

  it('bad requests get a typed answer, are counted, and the server keeps serving', async () => {
    server = await ManagementServer.start({ pool, rooms });
    const post = (route: string, body: string) => fetch(`${server!.url}${route}`, { method: 'POST', body });
    const bad = [
      await post('/allocate', '{ nope'),
      await post('/allocate', '[]'),
      await post('/allocate', JSON.stringify({ room: 7 })),
      await post('/allocate', JSON.stringify({ room: '100-1101-1201', count: 0 })),
      await post('/report', JSON.stringify({ room: '100-1101-1201', terminals: 'x' })),
      await post('/nowhere', JSON.stringify({ room: '100-1101-1201' })),
      await post('/allocate', 'x'.repeat(70 * 1024)),
    ];
    expect(bad.map((r) => r.status)).toEqual([400, 400, 400, 400, 400, 400, 400]);
    expect(((await bad[0]!.json()) as { code: string }).code).toBe('BAD_MESSAGE');
    const unknown = await post('/allocate', JSON.stringify({ room: '100-1101-1299' }));
    expect(unknown.status).toBe(404);
    expect(server.snapshot().counters.refused).toEqual({ BAD_MESSAGE: 7, UNKNOWN_ROOM: 1 });
    const client = new ManagementClient(server.url);
    expect(await codeOf(client.allocate('100-1101-1299'))).toBe('UNKNOWN_ROOM');
    expect((await client.allocate('100-1101-1201')).addresses).toHaveLength(3);
    await server.stop();
    expect(await codeOf(new ManagementClient(server.url, 2000).allocate('100-1101-1201'))).toBe('MANAGEMENT_UNREACHABLE');
    server = undefined;
  });
});
