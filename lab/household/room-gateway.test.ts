import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { householdVendorClass } from '../../core/household/household-wire.js';
import { parseHardwareAddress } from '../../core/lease/dhcp-message.js';
import { LeaseClient } from '../../core/lease/lease-client.js';
import { UdpLeaseTransport } from '../../core/lease/lease-transport.js';
import { until } from '../../test/support/until.js';
import { ManagementClient } from './management-client.js';
import { ManagementServer } from './management-server.js';
import { RoomGateway } from './room-gateway.js';

const room = '100-1101-1201';
const fast = { initialWaitMs: 60, maxWaitMs: 200, jitterMs: 20, maxDiscoverRounds: 2, requestAttempts: 3, minRenewWaitMs: 20, secondMs: 1000 };
const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function building(pool: { first: string; last: string }, rooms: Record<string, number>): Promise<{ server: ManagementServer; gateway: RoomGateway }> {
  const server = await ManagementServer.start({ pool, rooms });
  cleanups.push(() => server.stop());
  const gateway = await RoomGateway.start({ room, management: new ManagementClient(server.url), domain: 'household.lab', gatekeeper: { address: '127.0.0.1', port: 9 } });
  cleanups.push(() => gateway.stop());
  return { server, gateway };
}

let mac = 1;
async function terminal(gateway: RoomGateway, vendorClass = householdVendorClass): Promise<LeaseClient> {
  const transport = await UdpLeaseTransport.loopback(gateway.dhcpEndpoint);
  const client = new LeaseClient({ transport, hardwareAddress: parseHardwareAddress(`02:00:5e:00:01:${(mac++).toString(16).padStart(2, '0')}`), vendorClass, timing: fast });
  cleanups.push(() => client.stop({ release: false }));
  return client;
}

describe('a room gateway deals addresses and numbers to its terminals (seed 001 Figs. 8-12)', () => {
  it('Fig. 9: it takes the room\'s first address and -0; Fig. 10: terminal N gets the (N+1)-th address and -N', async () => {
    const { server, gateway } = await building({ first: '127.77.2.1', last: '127.77.2.20' }, { [room]: 3 });
    expect(gateway.snapshot()).toMatchObject({ address: '127.77.2.1', number: '100-1101-1201-0', sip: { address: '127.77.2.1' } });
    const t1 = await (await terminal(gateway)).start();
    const t2 = await (await terminal(gateway)).start();
    expect([t1.address, t1.householdNumber, t1.mgc]).toEqual(['127.77.2.2', '100-1101-1201-1', [gateway.sipEndpoint]]);
    expect([t2.address, t2.householdNumber]).toEqual(['127.77.2.3', '100-1101-1201-2']);
    // step 122: the management server knows what each terminal holds
    await until(() => server.snapshot().rooms[room]!.allotted.length === 3);
    expect(server.snapshot().rooms[room]!.addresses.map((a) => a.state)).toEqual(['gateway', 'terminal', 'terminal']);
    expect(gateway.snapshot().dhcpCounters).toMatchObject({ replies: { OFFER: 2, ACK: 2 }, socketErrors: 0 });
  });

  it('Fig. 10 step 102: a room with none left asks the management server for one more', async () => {
    const { server, gateway } = await building({ first: '127.77.2.21', last: '127.77.2.40' }, { [room]: 2 });
    await (await terminal(gateway)).start();
    const second = await (await terminal(gateway)).start();
    expect([second.address, second.householdNumber]).toEqual(['127.77.2.23', '100-1101-1201-2']);
    expect(server.snapshot().counters.handled.allocate).toBe(2);
  });

  it('a room that runs out in a full building offers nothing; the terminal fails, the gateway counts it', async () => {
    const { gateway } = await building({ first: '127.77.2.41', last: '127.77.2.42' }, { [room]: 2 });
    await (await terminal(gateway)).start();
    const late = await terminal(gateway);
    await expect(late.start()).rejects.toMatchObject({ code: 'NO_USABLE_OFFER' });
    expect(gateway.snapshot().dhcpCounters.ignored['room full']).toBeGreaterThan(0);
  });

  it('Fig. 12: a withdrawn terminal\'s deletion request frees its address and number for the next terminal', async () => {
    const { server, gateway } = await building({ first: '127.77.2.51', last: '127.77.2.70' }, { [room]: 3 });
    const first = await terminal(gateway);
    const lease = await first.start();
    await (await terminal(gateway)).start();
    await first.stop(); // RELEASE: the deletion request (Fig. 8 step 84)
    await until(() => gateway.snapshot().terminals.length === 1);
    await until(() => server.snapshot().rooms[room]!.free.includes(lease.address));
    const next = await (await terminal(gateway)).start();
    expect([next.address, next.householdNumber]).toEqual([lease.address, lease.householdNumber]);
  });

  it('only household terminals are served; others are ignored and counted', async () => {
    const { gateway } = await building({ first: '127.77.2.71', last: '127.77.2.80' }, { [room]: 3 });
    await expect((await terminal(gateway, 'Veilphone-1')).start()).rejects.toMatchObject({ code: 'NO_USABLE_OFFER' });
    expect(Object.keys(gateway.snapshot().dhcpCounters.ignored)).toEqual(['vendor class "Veilphone-1" is not a household terminal']);
  });

  it('a restart of the management server and the gateway forgets nothing allotted', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'household-restart-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'household.json');
    const pool = { first: '127.77.2.91', last: '127.77.2.99' };
    const server = await ManagementServer.start({ pool, rooms: { [room]: 3 }, file });
    const gateway = await RoomGateway.start({ room, management: new ManagementClient(server.url), domain: 'household.lab', gatekeeper: { address: '127.0.0.1', port: 9 } });
    const held = await (await terminal(gateway)).start();
    await until(() => server.snapshot().rooms[room]!.allotted.includes(held.address));
    await gateway.stop();
    await server.stop();

    const again = await ManagementServer.start({ pool, rooms: { [room]: 3 }, file });
    cleanups.push(() => again.stop());
    const restarted = await RoomGateway.start({ room, management: new ManagementClient(again.url), domain: 'household.lab', gatekeeper: { address: '127.0.0.1', port: 9 } });
    cleanups.push(() => restarted.stop());
    expect(restarted.snapshot().terminals).toMatchObject([{ number: held.householdNumber, address: held.address }]);
    expect(again.snapshot().rooms[room]!.allotted).toEqual(['127.77.2.91', held.address]); // the gateway's first report kept it
    const next = await (await terminal(restarted)).start();
    expect(next.address).not.toBe(held.address);
  });

  it('Fig. 11: a vacated room gives every address back', async () => {
    const { server, gateway } = await building({ first: '127.77.2.81', last: '127.77.2.90' }, { [room]: 3 });
    await (await terminal(gateway)).start();
    expect(await gateway.vacate()).toEqual(['127.77.2.81', '127.77.2.82', '127.77.2.83']);
    expect(server.snapshot().rooms[room]).toMatchObject({ vacated: true, allotted: [], free: [], size: 0 });
    expect(server.snapshot().pool.free).toBe(10);
  });
});
