import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import type { CallSnapshot, PhoneEvent } from '../api/phone-types.js';
import { HouseholdError } from '../household/household-error.js';
import { callResult } from './call-result.js';
import { defaultMediaProvider } from './default-media.js';
import { allocateHouseholdTerminal, type HouseholdTerminal } from './household-phone.js';
import { Phone } from './phone.js';
import { until } from '../../test/support/until.js';

const timers = { t1: 100, t2: 400 };
const room = '100-1101-1201';

/** Phones as seed 001 terminals (Fig. 8) in a lab building, called by a phone outside it; real loopback sockets. */
describe('a phone as a household terminal (seed 001 Fig. 8, units 21-27)', () => {
  const cleanup: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function lab(rooms: Record<string, number> = { [room]: 4 }, pool = { first: '127.77.8.1', last: '127.77.8.40' }): Promise<Lab> {
    const started = await Lab.start({ timers, household: { rooms, pool } });
    cleanup.push(() => started.stop());
    return started;
  }

  async function terminalPhone(l: Lab, roomNumber = room): Promise<{ phone: Phone; terminal: HouseholdTerminal; calls: Map<string, CallSnapshot> }> {
    const terminal = await allocateHouseholdTerminal({ gateway: l.household!.gateway(roomNumber).dhcpEndpoint });
    const phone = new Phone({
      accounts: [{ id: 'home', ...terminal.account }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers,
      lease: terminal.phoneLease,
    });
    const calls = new Map<string, CallSnapshot>();
    phone.subscribe((e: PhoneEvent) => {
      if (e.type === 'call' || e.type === 'incoming') calls.set(e.call.id, e.call);
    });
    cleanup.push(() => phone.shutdown());
    await phone.register();
    return { phone, terminal, calls };
  }

  function outsidePhone(l: Lab, answer = false): { phone: Phone; calls: Map<string, CallSnapshot> } {
    const phone = new Phone({
      accounts: [{ id: 'ext', user: 'ext', server: l.servers.udp!, transport: 'udp', domain: l.domain, ...(answer ? { answer: { kind: 'auto' as const } } : {}) }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers,
    });
    const calls = new Map<string, CallSnapshot>();
    phone.subscribe((e: PhoneEvent) => {
      if (e.type === 'call' || e.type === 'incoming') calls.set(e.call.id, e.call);
    });
    cleanup.push(() => phone.shutdown());
    return { phone, calls };
  }

  it('gets its address and number from the room gateway and registers the number from that address', async () => {
    const l = await lab();
    const { phone, terminal } = await terminalPhone(l);
    expect(terminal.household).toEqual({ room, number: '100-1101-1201-1', address: '127.77.8.2', gateway: `127.77.8.1:${l.household!.gateway(room).sipEndpoint.port}` });
    expect(terminal.account).toMatchObject({ user: '100-1101-1201-1', domain: 'household.lab', localAddress: '127.77.8.2' });
    const registration = (await phone.snapshot()).registrations[0]!;
    expect(registration).toMatchObject({ state: 'registered' });
    expect(registration.contact).toContain('@127.77.8.2:');
    expect(l.household!.gateway(room).snapshot().registrar.map((b) => b.user)).toEqual(['100-1101-1201-1']);
  });

  it('a phone outside dials the room as written (dashes kept): every terminal rings, says "whole room"; one answers, the other shows "answered elsewhere"', async () => {
    const l = await lab();
    const terminals = [await terminalPhone(l), await terminalPhone(l)];
    const ext = outsidePhone(l);
    await ext.phone.register();
    const placed = await ext.phone.call({ target: room });
    const incomingAt = (t: { calls: Map<string, CallSnapshot> }): CallSnapshot[] => [...t.calls.values()].filter((c) => c.direction === 'incoming');
    await until(() => terminals.every((t) => incomingAt(t).some((c) => c.state === 'incoming')));
    expect(terminals.map((t) => incomingAt(t)[0]!.rang)).toEqual(['room', 'room']);
    await terminals[0]!.phone.answer(incomingAt(terminals[0]!)[0]!.id);
    await until(() => incomingAt(terminals[1]!)[0]!.state === 'terminated');
    const elsewhere = incomingAt(terminals[1]!)[0]!;
    expect(elsewhere).toMatchObject({ status: 487, answeredElsewhere: true });
    expect(callResult(elsewhere)).toBe('answered-elsewhere');
    await ext.phone.hangup(placed.id);

    const one = await ext.phone.call({ target: `${room}-2` });
    await until(() => incomingAt(terminals[1]!).length === 2);
    expect(incomingAt(terminals[1]!)[1]!.rang).toBe('terminal');
    expect(incomingAt(terminals[0]!)).toHaveLength(1);
    await ext.phone.hangup(one.id);
    await until(() => incomingAt(terminals[1]!)[1]!.state === 'terminated');
    expect(incomingAt(terminals[1]!)[1]!.answeredElsewhere).toBeUndefined();
    expect(callResult(incomingAt(terminals[1]!)[1]!)).toBe('missed'); // the caller gave up: a missed call
  });

  it('calls out through the gateway and the gatekeeper; the callee sees the full number', async () => {
    const l = await lab();
    const ext = outsidePhone(l, true);
    await ext.phone.register();
    const { phone } = await terminalPhone(l);
    const placed = await phone.call({ target: `sip:ext@${l.domain}` });
    await until(() => [...ext.calls.values()].find((c) => c.direction === 'incoming' && c.state === 'established'));
    expect([...ext.calls.values()][0]!.remote.user).toBe('100-1101-1201-1');
    await phone.hangup(placed.id);
  });

  it('withdrawn (shut down) it sends the deletion request: the next terminal gets its address and number', async () => {
    const l = await lab();
    const first = await terminalPhone(l);
    await first.phone.shutdown();
    await until(() => l.household!.gateway(room).snapshot().terminals.length === 0);
    const next = await terminalPhone(l);
    expect(next.terminal.household.number).toBe(first.terminal.household.number);
    expect(next.terminal.household.address).toBe(first.terminal.household.address);
  });

  it('a room with no address left in the building is a typed NO_ALLOCATION', async () => {
    const l = await lab({ [room]: 2 }, { first: '127.77.8.41', last: '127.77.8.42' });
    await terminalPhone(l);
    await expect(allocateHouseholdTerminal({ gateway: l.household!.gateway(room).dhcpEndpoint, timing: { initialWaitMs: 50, maxWaitMs: 100, jitterMs: 10, maxDiscoverRounds: 1 } })).rejects.toSatisfy((e) => e instanceof HouseholdError && e.code === 'NO_ALLOCATION');
  });
});
