import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { householdVendorClass } from '../../core/household/household-wire.js';
import { parseHardwareAddress } from '../../core/lease/dhcp-message.js';
import type { Lease } from '../../core/lease/lease.js';
import { LeaseClient } from '../../core/lease/lease-client.js';
import { UdpLeaseTransport } from '../../core/lease/lease-transport.js';
import type { SipCall } from '../../core/sip/sip-call.js';
import { SipIdentity } from '../../core/sip/sip-identity.js';
import type { SipTapEntry } from '../../core/sip/transport/message-tap.js';
import { fastTimers } from '../../test/support/lab-identity.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { until } from '../../test/support/until.js';
import { SipLabServer } from '../sip-server/sip-lab-server.js';
import { HouseholdNetwork } from './household-network.js';

const room = '100-1101-1201';
const fast = { initialWaitMs: 60, maxWaitMs: 200, jitterMs: 20, maxDiscoverRounds: 2, requestAttempts: 3, minRenewWaitMs: 20, secondMs: 1000 };

interface Terminal {
  lease: Lease;
  identity: SipIdentity;
  incoming: SipCall[];
  trace: SipTapEntry[];
}

/**
 * One building (seed 001 Fig. 1) on loopback: management server, gatekeeper, two rooms' gateways, and an outside
 * lab server with `ext`; terminals get their address and number from the room gateway and register from it.
 */
describe('calls in a household building (seed 001 ¶[55]-[58], Figs. 9 and 13)', () => {
  let outside: SipLabServer;
  let building: HouseholdNetwork;
  const cleanups: Array<() => Promise<unknown>> = [];
  let mac = 1;

  beforeEach(async () => {
    outside = await SipLabServer.start({ domains: ['outside.lab'], timers: fastTimers });
    building = await HouseholdNetwork.start({ rooms: { [room]: 4, '100-1101-1202': 2 }, pool: { first: '127.77.4.1', last: '127.77.4.30' }, outside: { domain: 'outside.lab', address: '127.0.0.1', port: outside.ports.udp! }, timers: fastTimers });
    outside.proxy.addPeer('household.lab', building.gatekeeper.endpoint);
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await building.stop();
    await outside.stop();
  });

  async function terminal(roomNumber: string, answer: 'ring' | 'answer' = 'ring'): Promise<Terminal> {
    const gateway = building.gateway(roomNumber);
    const client = new LeaseClient({ transport: await UdpLeaseTransport.loopback(gateway.dhcpEndpoint), hardwareAddress: parseHardwareAddress(`02:00:5e:00:02:${(mac++).toString(16).padStart(2, '0')}`), vendorClass: householdVendorClass, timing: fast });
    cleanups.push(() => client.stop({ release: false }));
    const lease = await client.start();
    const incoming: SipCall[] = [];
    const trace: SipTapEntry[] = [];
    const identity = await SipIdentity.create({
      aor: { user: lease.householdNumber!, domain: building.domain },
      transport: 'udp',
      local: { address: lease.address, port: 0 },
      server: lease.mgc[0]!,
      sessionDescriptionHandlerFactory: staticSdhFactory(),
      timers: fastTimers,
      tap: (entry) => trace.push(entry),
      onIncomingCall: (call) => {
        incoming.push(call);
        void (answer === 'answer' ? call.answer() : call.ring());
      },
    });
    cleanups.push(() => identity.dispose());
    expect(await identity.register()).toBe(200);
    return { lease, identity, incoming, trace };
  }

  async function ext(onIncoming?: (call: SipCall) => void): Promise<SipIdentity> {
    const identity = await SipIdentity.create({
      aor: { user: 'ext', domain: 'outside.lab' },
      transport: 'udp',
      local: { address: '127.0.0.1', port: 0 },
      server: { address: '127.0.0.1', port: outside.ports.udp! },
      sessionDescriptionHandlerFactory: staticSdhFactory(),
      timers: fastTimers,
      ...(onIncoming ? { onIncomingCall: onIncoming } : {}),
    });
    cleanups.push(() => identity.dispose());
    expect(await identity.register()).toBe(200);
    return identity;
  }

  it('ring-all: the room number rings every terminal; one answers, the others get CANCEL with RFC 3326 Reason', async () => {
    const terminals = [await terminal(room), await terminal(room), await terminal(room)];
    expect(terminals.map((t) => t.lease.householdNumber)).toEqual(['100-1101-1201-1', '100-1101-1201-2', '100-1101-1201-3']);
    const caller = await ext();
    const call = caller.createCall(`sip:${room}@household.lab`);
    const result = call.invite();
    await until(() => terminals.every((t) => t.incoming.length === 1));
    await terminals[1]!.incoming[0]!.answer();
    expect(await result).toBe(200);
    for (const t of [terminals[0]!, terminals[2]!]) {
      await t.incoming[0]!.whenEnded();
      const cancel = t.trace.find((e) => e.dir === 'in' && e.raw.startsWith('CANCEL '));
      expect(cancel?.raw).toMatch(/^Reason: SIP;cause=200;text="Call completed elsewhere"\r$/m);
    }
    expect(building.gateway(room).snapshot().calls.ringAll).toBe(1);
    await call.hangup();
  });

  it('a terminal dialling its own room rings the others, not itself', async () => {
    const terminals = [await terminal(room, 'answer'), await terminal(room), await terminal(room)];
    const call = terminals[0]!.identity.createCall(`sip:${room}@household.lab`);
    const result = call.invite();
    await until(() => terminals[1]!.incoming.length === 1 && terminals[2]!.incoming.length === 1);
    await terminals[2]!.incoming[0]!.answer();
    expect(await result).toBe(200);
    expect(terminals[0]!.incoming).toHaveLength(0);
    await call.hangup();
  });

  it('-0 equals the room number; -N rings terminal N only; an absent terminal is 404', async () => {
    const terminals = [await terminal(room), await terminal(room)];
    const caller = await ext();
    const zero = caller.createCall(`sip:${room}-0@household.lab`);
    const zeroResult = zero.invite();
    await until(() => terminals.every((t) => t.incoming.length === 1));
    await zero.hangup();
    expect(await zeroResult).toBe(487);

    const one = caller.createCall(`sip:${room}-2@household.lab`);
    const oneResult = one.invite();
    await until(() => terminals[1]!.incoming.length === 2);
    await terminals[1]!.incoming[1]!.answer();
    expect(await oneResult).toBe(200);
    expect(terminals[0]!.incoming).toHaveLength(1);
    await one.hangup();

    expect(await caller.createCall(`sip:${room}-3@household.lab`).invite()).toBe(404);
  });

  it('caller ID: a terminal calling out is seen as its full number, asserted by the gatekeeper whatever it claimed', async () => {
    const seen: SipCall[] = [];
    await ext((c) => {
      seen.push(c);
      void c.answer();
    });
    await terminal(room);
    const t2 = await terminal(room);
    // the terminal claims to be someone else in its From: the gatekeeper puts out the number its address has
    const liar = await SipIdentity.create({
      aor: { user: '100-1101-1201-9', domain: building.domain },
      transport: 'udp',
      local: { address: t2.lease.address, port: 0 },
      server: t2.lease.mgc[0]!,
      sessionDescriptionHandlerFactory: staticSdhFactory(),
      timers: fastTimers,
    });
    cleanups.push(() => liar.dispose());
    const call = liar.createCall('sip:ext@outside.lab');
    expect(await call.invite()).toBe(200);
    expect(seen[0]!.remote.user).toBe('100-1101-1201-2');
    expect(seen[0]!.inviteHeaders['p-asserted-identity']).toEqual(['<sip:100-1101-1201-2@household.lab>']);
    expect(building.gatekeeper.snapshot().counters.asserted).toBe(1);
    await call.hangup();
  });

  it('¶[104]: two terminals of one room are in calls at the same time', async () => {
    const a = await terminal(room);
    const b = await terminal(room);
    const answered: SipCall[] = [];
    await ext((c) => {
      answered.push(c);
      void c.answer();
    });
    const calls = [a.identity.createCall('sip:ext@outside.lab'), b.identity.createCall('sip:ext@outside.lab')];
    expect(await Promise.all(calls.map((c) => c.invite()))).toEqual([200, 200]);
    expect(calls.map((c) => c.state)).toEqual(['established', 'established']);
    expect(answered.map((c) => c.remote.user).sort()).toEqual(['100-1101-1201-1', '100-1101-1201-2']);
    await Promise.all(calls.map((c) => c.hangup()));
  });

  it('only the terminal holding a number registers it, from its address', async () => {
    const t1 = await terminal(room);
    const thief = await SipIdentity.create({
      aor: { user: t1.lease.householdNumber!, domain: building.domain },
      transport: 'udp',
      local: { address: '127.0.0.1', port: 0 },
      server: t1.lease.mgc[0]!,
      sessionDescriptionHandlerFactory: staticSdhFactory(),
      timers: fastTimers,
    });
    cleanups.push(() => thief.dispose());
    await expect(thief.register()).rejects.toMatchObject({ code: 'REGISTER_FAILED' });
  });

  it('Fig. 11: vacating a room gives its addresses back; calls to it then fail', async () => {
    const t = await terminal('100-1101-1202');
    await t.identity.dispose(); // its user leaves first (unregisters), then the room is vacated
    const freed = await building.vacate('100-1101-1202');
    expect(freed).toHaveLength(2);
    const snapshot = building.snapshot();
    expect(snapshot.management.rooms['100-1101-1202']).toMatchObject({ vacated: true, allotted: [], free: [] });
    const caller = await ext();
    expect(await caller.createCall('sip:100-1101-1202@household.lab').invite()).toBe(480);
  });
});
