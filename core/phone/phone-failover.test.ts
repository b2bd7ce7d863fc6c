import { Core } from 'sip.js';
import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { until } from '../../test/support/until.js';
import type { AccountConfig, CallSnapshot, PhoneEvent } from '../api/phone-types.js';
import type { Endpoint } from '../sip/transport/endpoint.js';
import type { SipTapEntry } from '../sip/transport/message-tap.js';
import { defaultMediaProvider } from './default-media.js';
import { Phone } from './phone.js';

const timers = { t1: 100, t2: 400 };

/** Seed 003: an account whose server does not answer moves to its backup; a phone that shut down moves nowhere. */
describe('an account with a backup server', () => {
  const network = new MemoryNetwork();
  const cleanup: Array<() => Promise<void> | void> = [];
  const timerF = Core.Timers.TIMER_F;
  afterEach(async () => {
    Core.Timers.TIMER_F = timerF;
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** A registrar that hears every REGISTER and answers none. */
  async function silentRegistrar(): Promise<{ uri: string; heard: () => number }> {
    const socket = await network.bindUdp({ address: '127.0.0.1', port: 0 });
    let registers = 0;
    socket.onMessage = (data) => {
      if (data.toString('latin1', 0, 9) === 'REGISTER ') registers++;
    };
    cleanup.push(() => socket.close());
    return { uri: `sip:127.0.0.1:${socket.local.port}`, heard: () => registers };
  }

  function phone(account: Omit<AccountConfig, 'id' | 'user' | 'transport'>): { phone: Phone; events: PhoneEvent[] } {
    const events: PhoneEvent[] = [];
    const p = new Phone({
      accounts: [{ id: 'alice', user: 'alice', transport: 'udp', domain: 'example.test', ...account }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers,
      sockets: network,
    });
    p.subscribe((e) => events.push(e));
    cleanup.push(() => p.shutdown());
    return { phone: p, events };
  }

  it('registers at the backup when the server does not answer', async () => {
    Core.Timers.TIMER_F = 10 * timers.t1; // the REGISTER's timeout: 64·T1 of sip.js's own T1 would be 32 s
    const primary = await silentRegistrar();
    const backup = await Lab.start({ timers, sockets: network });
    cleanup.push(() => backup.stop());
    const { phone: alice, events } = phone({ server: primary.uri, backupServers: [backup.servers.udp!], domain: backup.domain });
    await alice.register();
    expect(primary.heard()).toBeGreaterThan(0);
    expect(events.some((e) => e.type === 'error' && e.code === 'SERVER_FAILOVER')).toBe(true);
    expect(backup.sip.snapshot().bindings.filter((b) => b.user === 'alice')).toHaveLength(1);
  });

  /** The port of a lab's UDP server. */
  const portOf = (lab: Lab): number => Number(endpointOf(lab).split(':')[1]);
  /** `address:port` of a lab's UDP server, as a registration snapshot names it. */
  const endpointOf = (lab: Lab): string => lab.servers.udp!.replace(/^sip:|;.*$/g, '');
  const bindingsOf = (lab: Lab): string[] => lab.sip.snapshot().bindings.filter((b) => b.user === 'alice').map((b) => b.contact);
  const reported = (events: PhoneEvent[], code: string): boolean => events.some((e) => e.type === 'error' && e.code === code);
  const callState = (events: PhoneEvent[], id: string): CallSnapshot | undefined => events.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === id).at(-1)?.call;
  const registeredAt = (events: PhoneEvent[], lab: Lab): boolean => {
    const last = events.filter((e): e is Extract<PhoneEvent, { type: 'registration' }> => e.type === 'registration').at(-1)?.registration;
    return last?.state === 'registered' && last.server === endpointOf(lab);
  };

  /** What the link does to a datagram: `pass()` delivers it (now or later); true: the link took it. */
  type Intercept = (data: Buffer, from: Endpoint, to: Endpoint, pass: () => void) => boolean;

  /**
   * Seed 003's primary and secondary soft switch (two labs) on a network whose link to the primary can go down both
   * ways and come back (a switch that restarts), and alice with keep-alives on them, primary first. `phoneAt` registers
   * another phone at one of them.
   */
  async function switches(options: { primaryDown?: boolean; primary?: Partial<NonNullable<Parameters<typeof Lab.start>[0]>>; alice?: Partial<AccountConfig> } = {}) {
    const link: { primaryDown: boolean; intercept?: Intercept } = { primaryDown: options.primaryDown ?? false };
    let primaryPort = 0;
    const net = new (class extends MemoryNetwork {
      override deliverDatagram(data: Buffer, from: Endpoint, to: Endpoint): void {
        if (link.primaryDown && (to.port === primaryPort || from.port === primaryPort)) return;
        const pass = (): void => super.deliverDatagram(data, from, to);
        if (link.intercept?.(data, from, to, pass)) return;
        pass();
      }
    })();
    const primary = await Lab.start({ timers, sockets: net, ...options.primary });
    cleanup.push(() => primary.stop());
    const backup = await Lab.start({ timers, sockets: net });
    cleanup.push(() => backup.stop());
    primaryPort = portOf(primary);
    const phoneAt = async (lab: Lab, account: Partial<AccountConfig> & { id: string }): Promise<{ phone: Phone; events: PhoneEvent[] }> => {
      const events: PhoneEvent[] = [];
      const p = new Phone({ accounts: [{ user: account.id, transport: 'udp', domain: lab.domain, server: lab.servers.udp!, ...account }], createSessionDescriptionHandlerFactory: defaultMediaProvider, timers, sockets: net });
      p.subscribe((e) => events.push(e));
      cleanup.push(() => p.shutdown());
      return { phone: p, events };
    };
    const alice = await phoneAt(primary, { id: 'alice', backupServers: [backup.servers.udp!], keepalive: { intervalMs: 100, timeoutMs: 200, primaryRetryMs: 300 }, answer: { kind: 'auto' }, ...options.alice });
    return { link, primary, backup, alice: alice.phone, events: alice.events, phoneAt };
  }

  /** A call through `lab` from a new phone there rings alice, who answers; then it is hung up. */
  async function callsReachAlice(phoneAt: Awaited<ReturnType<typeof switches>>['phoneAt'], lab: Lab): Promise<void> {
    const bob = await phoneAt(lab, { id: 'bob' });
    await bob.phone.register();
    const placed = await bob.phone.call({ target: 'alice' });
    await until(() => callState(bob.events, placed.id)?.state === 'established');
    await bob.phone.hangup(placed.id);
  }

  it.each(['fixed', 'temporary'] as const)('on a %s address: fails over when its server goes silent, fails back once it answers again (keepalive.primaryRetryMs), and leaves no binding at the backup', async (mode) => {
    const heardAtPrimary: SipTapEntry[] = [];
    const { link, primary, backup, alice, events, phoneAt } = await switches({
      primary: { tap: (entry) => heardAtPrimary.push(entry) },
      alice: { keepalive: { intervalMs: 100, timeoutMs: 200, primaryRetryMs: 600 }, ...(mode === 'temporary' ? { address: { mode: 'temporary', source: 'loopback' } } : {}) },
    });
    await alice.register();
    const before = bindingsOf(primary);
    expect(before).toHaveLength(1);

    link.primaryDown = true; // the primary's link goes down both ways, and comes back: a soft switch that restarts
    await until(() => reported(events, 'SERVER_FAILOVER') && bindingsOf(backup).length === 1 && registeredAt(events, backup));

    link.primaryDown = false;
    await until(() => reported(events, 'SERVER_FAILBACK'), 10_000);
    // the backup still answers: the account's registration there is undone, not left to expire; and what the failover
    // left at the primary (the Contact of identities now gone) is erased there
    await until(() => bindingsOf(backup).length === 0);
    await until(() => bindingsOf(primary).length === 1 && !bindingsOf(primary).includes(before[0]!));
    await until(() => registeredAt(events, primary));
    // the REGISTER that erased it came from the host's address on a fixed account, from a fresh one-time address on
    // one-time addresses: never from the stale Contact's, nor the new registration's (it names the stale Contact)
    const stale = /@([^;>]+)/.exec(before[0]!)![1]!;
    const erasing = heardAtPrimary.filter((e) => e.dir === 'in' && e.raw.startsWith('REGISTER ') && e.raw.includes(`@${stale}`) && /expires=0\b|^Expires: 0\r?$/im.test(e.raw));
    expect(erasing.length).toBeGreaterThan(0);
    const hostOf = (hostPort: string): string => hostPort.replace(/:\d+$/, '');
    const senders = new Set(erasing.map((e) => hostOf(e.remote)));
    expect(senders.size).toBe(1);
    const [sender] = [...senders];
    if (mode === 'fixed') expect(sender).toBe('127.0.0.1');
    else expect([hostOf(stale), '127.0.0.1', hostOf(/@([^;>]+)/.exec(bindingsOf(primary)[0]!)![1]!)]).not.toContain(sender);
    await callsReachAlice(phoneAt, primary); // a call through the primary reaches the account again
  });

  it('shut down right after failing back while the backup is slow to confirm the unregistration: waits for it (8·T1), sends nothing after', async () => {
    Core.Timers.TIMER_F = 10 * timers.t1;
    let backupMute = false;
    const { link, backup, alice, events } = await switches({
      primaryDown: true,
      // the moment the primary hears the account's REGISTER (the failback), the backup stops answering
      primary: { tap: (e) => e.dir === 'in' && e.raw.startsWith('REGISTER ') && !link.primaryDown && (backupMute = true) },
    });
    let toBackup = 0;
    link.intercept = (_data, from, to) => {
      if (to.port === portOf(backup)) toBackup++;
      return backupMute && from.port === portOf(backup); // it hears, and answers nothing
    };
    await alice.register();
    link.primaryDown = false;
    await until(() => reported(events, 'SERVER_FAILBACK'));
    const began = Date.now();
    await alice.shutdown();
    expect(Date.now() - began).toBeGreaterThanOrEqual(6 * timers.t1); // it waited for the backup's answer, a grace long
    const sent = toBackup;
    await new Promise((resolve) => setTimeout(resolve, 10 * timers.t1));
    expect(toBackup).toBe(sent);
  });

  it('unregistered while a failback waits for the primary\'s answer: ends unregistered at both servers (the failback does not register it again)', async () => {
    Core.Timers.TIMER_F = 10 * timers.t1; // the REGISTER to the silent primary times out soon
    const { link, primary, backup, alice, events } = await switches({ primaryDown: true });
    await alice.register(); // at the backup: the primary is down
    const held: Array<() => void> = [];
    link.intercept = (data, from, _to, pass) => {
      const text = data.toString('latin1');
      if (from.port !== portOf(primary) || !/^SIP\/2\.0 200/.test(text) || !/^CSeq: \d+ REGISTER\r?$/im.test(text)) return false;
      held.push(pass); // the primary's 200 to the failback's REGISTER waits
      return true;
    };
    link.primaryDown = false;
    await until(() => held.length > 0);
    const unregistering = alice.unregister();
    link.intercept = undefined;
    for (const pass of held.splice(0)) pass();
    await unregistering;
    await until(() => bindingsOf(primary).length === 0 && bindingsOf(backup).length === 0);
    await new Promise((resolve) => setTimeout(resolve, 1000)); // three keep-alive rounds: nothing registers it again
    expect([bindingsOf(primary), bindingsOf(backup)]).toEqual([[], []]);
    const last = events.filter((e): e is Extract<PhoneEvent, { type: 'registration' }> => e.type === 'registration').at(-1)?.registration;
    expect(last?.state).toBe('unregistered');
  });

  it('unregistered while a failback\'s REGISTER goes unanswered: registers again afterwards when asked (the undone failback left it on no server)', async () => {
    Core.Timers.TIMER_F = 10 * timers.t1; // the REGISTER to the primary times out soon
    const { link, primary, alice } = await switches({ primaryDown: true });
    await alice.register(); // at the backup: the primary is down
    let dropped = 0;
    link.intercept = (data, from) => {
      const text = data.toString('latin1');
      if (from.port !== portOf(primary) || !/^SIP\/2\.0 200/.test(text) || !/^CSeq: \d+ REGISTER\r?$/im.test(text)) return false;
      dropped++; // the primary's answers to the failback's REGISTER never arrive
      return true;
    };
    link.primaryDown = false;
    await until(() => dropped > 0);
    await alice.unregister(); // waits for the failback, whose REGISTER times out: it is undone
    link.intercept = undefined;
    expect((await alice.register()).state).toBe('registered');
  });

  it('a call up when its server goes silent survives the failover (its media does not pass the server), and no failback ends it', async () => {
    const { link, primary, backup, alice, events, phoneAt } = await switches({ alice: { answer: { kind: 'manual' } } });
    await alice.register();
    const bob = await phoneAt(primary, { id: 'bob', answer: { kind: 'auto' } });
    await bob.phone.register();
    const placed = await alice.call({ target: 'bob' });
    await until(() => callState(events, placed.id)?.state === 'established');
    link.primaryDown = true;
    await until(() => reported(events, 'SERVER_FAILOVER') && bindingsOf(backup).length > 0);
    const heard = alice.mediaOf(placed.id)!.stats().packetsReceived;
    link.primaryDown = false; // back: the account would fail back now, but the call is up
    // the primary still has the binding of the identities kept for the call: a second caller through it is refused
    // there (480), not rung on them — they are no longer the account's
    const carol = await phoneAt(primary, { id: 'carol' });
    await carol.phone.register();
    const second = await carol.phone.call({ target: 'alice' });
    const secondEnd = await until(() => (callState(carol.events, second.id)?.state === 'terminated' ? callState(carol.events, second.id) : undefined));
    expect(secondEnd.status).toBe(480);
    expect(events.some((e) => e.type === 'incoming')).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(callState(events, placed.id)?.state).toBe('established');
    expect(alice.mediaOf(placed.id)!.stats().packetsReceived).toBeGreaterThan(heard + 20); // bob is still heard
    expect(reported(events, 'SERVER_FAILBACK')).toBe(false);
    await alice.hangup(placed.id);
    await until(() => reported(events, 'SERVER_FAILBACK'));
  });

  it('a kept call whose far end went down with the server is ended by the media timeout, and the account fails back after it', async () => {
    const { link, primary, alice, events, phoneAt } = await switches({ alice: { answer: { kind: 'manual' }, mediaTimeout: { seconds: 3 } } });
    await alice.register();
    const bob = await phoneAt(primary, { id: 'bob', answer: { kind: 'auto' }, mediaTimeout: { seconds: 0 } });
    await bob.phone.register();
    const placed = await alice.call({ target: 'bob' });
    await until(() => callState(events, placed.id)?.state === 'established');
    const bobLeg = await until(() => bob.events.find((e): e is Extract<PhoneEvent, { type: 'incoming' }> => e.type === 'incoming')?.call.id);
    link.primaryDown = true;
    await until(() => reported(events, 'SERVER_FAILOVER'));
    bob.phone.mediaOf(bobLeg)!.close(); // bob's host is gone with the switch: nothing more comes from it
    link.primaryDown = false;
    const ended = await until(() => (callState(events, placed.id)?.state === 'terminated' ? callState(events, placed.id) : undefined), 8000);
    expect(ended).toMatchObject({ endedBy: 'network', endCause: { kind: 'no-media', seconds: 3 } });
    await until(() => reported(events, 'SERVER_FAILBACK'));
  });

  it('does not fail back while a call is up on the backup (it would end it), and does once the call is over', async () => {
    Core.Timers.TIMER_F = 10 * timers.t1;
    const { link, backup, alice, events, phoneAt } = await switches({ primaryDown: true });
    await alice.register();
    const bob = await phoneAt(backup, { id: 'bob' });
    await bob.phone.register();
    const placed = await bob.phone.call({ target: 'alice' });
    await until(() => callState(bob.events, placed.id)?.state === 'established');
    link.primaryDown = false;
    await new Promise((resolve) => setTimeout(resolve, 1000)); // three retry intervals
    expect(reported(events, 'SERVER_FAILBACK')).toBe(false);
    expect(callState(bob.events, placed.id)?.state).toBe('established');
    await bob.phone.hangup(placed.id);
    await until(() => reported(events, 'SERVER_FAILBACK'));
    await until(() => bindingsOf(backup).length === 0);
  });

  it('a call that reaches the backup while a failback is under way is taken, outlives the failback, and the backup is cleared after it', async () => {
    Core.Timers.TIMER_F = 10 * timers.t1;
    const { link, primary, backup, alice, events, phoneAt } = await switches({ primaryDown: true });
    await alice.register(); // the primary is down: at the backup
    const bob = await phoneAt(backup, { id: 'bob' });
    await bob.phone.register();
    // the primary's answers to REGISTER wait while the test says: the failback stays under way
    let holding = true;
    const held: Array<() => void> = [];
    link.intercept = (data, from, _to, pass) => {
      const text = data.toString('latin1');
      if (!holding || from.port !== portOf(primary) || !text.startsWith('SIP/2.0') || !/^CSeq: \d+ REGISTER/m.test(text)) return false;
      held.push(pass);
      return true;
    };
    link.primaryDown = false;
    await until(() => held.length > 0); // the failback's REGISTER reached the primary; its answer waits
    const placed = await bob.phone.call({ target: 'alice' });
    await until(() => callState(bob.events, placed.id)?.state === 'established');
    holding = false;
    for (const deliver of held.splice(0)) deliver();
    await until(() => reported(events, 'SERVER_FAILBACK'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(callState(bob.events, placed.id)?.state).toBe('established');
    expect(bindingsOf(backup)).toHaveLength(1);
    await bob.phone.hangup(placed.id);
    await until(() => bindingsOf(backup).length === 0);
  });

  it('stays registered at the backup when the primary answers OPTIONS again but refuses the REGISTER', async () => {
    Core.Timers.TIMER_F = 10 * timers.t1; // the first REGISTER's timeout, while the primary is down
    const refusals: SipTapEntry[] = [];
    // the primary comes back knowing alice by another password: it answers OPTIONS, and refuses her REGISTER
    const { link, backup, alice, events, phoneAt } = await switches({
      primaryDown: true,
      primary: { auth: true, users: { alice: { password: 'not-hers' }, bob: {} }, tap: (e) => e.dir === 'out' && /^SIP\/2\.0 401/.test(e.raw) && /^CSeq: \d+ REGISTER/m.test(e.raw) && refusals.push(e) },
      alice: { password: 'hers' },
    });
    await alice.register();
    const atBackup = bindingsOf(backup);
    expect(atBackup).toHaveLength(1);
    link.primaryDown = false;
    await until(() => refusals.length >= 4); // challenged, refused with her credentials; and again after another interval
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(bindingsOf(backup)).toEqual(atBackup); // never unregistered there
    expect(reported(events, 'SERVER_FAILBACK')).toBe(false);
    expect((await alice.snapshot()).registrations[0]).toMatchObject({ state: 'registered', server: endpointOf(backup) });
    await callsReachAlice(phoneAt, backup); // and it is reached there: a call through the backup rings it
  });

  it('a call placed while a failback waits for the primary goes through the backup, and outlives the primary refusing the REGISTER', async () => {
    Core.Timers.TIMER_F = 10 * timers.t1; // the first REGISTER's timeout, while the primary is down
    const { link, primary, backup, alice, events, phoneAt } = await switches({
      primaryDown: true,
      primary: { auth: true, users: { alice: { password: 'not-hers' }, bob: {} } },
      alice: { password: 'hers' },
    });
    await alice.register();
    const bob = await phoneAt(backup, { id: 'bob', answer: { kind: 'auto' } });
    await bob.phone.register();
    const held: Array<() => void> = [];
    link.intercept = (data, from, _to, pass) => {
      const text = data.toString('latin1');
      if (from.port !== portOf(primary) || !/^SIP\/2\.0 401/.test(text) || !/^CSeq: \d+ REGISTER\r?$/im.test(text)) return false;
      held.push(pass); // the primary's challenge to the failback's REGISTER waits: the attempt is under way
      return true;
    };
    link.primaryDown = false;
    await until(() => held.length > 0);
    const placed = await alice.call({ target: 'bob' });
    await until(() => callState(events, placed.id)?.state === 'established');
    link.intercept = undefined;
    for (const pass of held.splice(0)) pass(); // the primary refuses alice's REGISTER: the attempt is undone
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(callState(events, placed.id)?.state).toBe('established');
    expect((await alice.snapshot()).registrations[0]).toMatchObject({ state: 'registered', server: endpointOf(backup) });
    await alice.hangup(placed.id);
    await until(() => callState(bob.events, bob.events.flatMap((e) => (e.type === 'incoming' ? [e.call.id] : []))[0]!)?.state === 'terminated');
  });

  it('shut down while its REGISTER waits for the server, it does not take that for a dead server and register at the backup', async () => {
    const primary = await silentRegistrar();
    const backup = await silentRegistrar();
    const { phone: alice, events } = phone({ server: primary.uri, backupServers: [backup.uri] });
    const registering = alice.register().then(() => 'registered', (error: Error) => error.message);
    await until(() => primary.heard() > 0);
    await alice.shutdown();
    // before, the abandoned REGISTER failed as a timeout: the account moved to the backup and registered there, after
    // the shutdown, from identities nothing disposed
    expect(await registering).toMatch(/shut down/);
    await new Promise((resolve) => setTimeout(resolve, 5 * timers.t1));
    expect(backup.heard()).toBe(0);
    expect(events.filter((e) => e.type === 'error' && e.code === 'SERVER_FAILOVER')).toEqual([]);
    expect(events.filter((e) => e.type === 'registration' && e.registration.state === 'failed')).toEqual([]);
  });
  it('shut down while a REGISTER it sent by itself (after a settings change) waits, it reports no error: nothing failed', async () => {
    const primary = await silentRegistrar();
    const { phone: alice, events } = phone({ server: primary.uri });
    await alice.updateAccount({ id: 'alice', user: 'alice', transport: 'udp', domain: 'example.test', server: primary.uri, displayName: 'Alice' });
    await until(() => primary.heard() > 0);
    await alice.shutdown();
    await new Promise((resolve) => setTimeout(resolve, 5 * timers.t1));
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
  });

  it("shut down while its REGISTER times out, it neither fails over nor registers again", async () => {
    Core.Timers.TIMER_F = 10 * timers.t1; // the REGISTER times out (a local 408) within the shutdown's grace of 8·T1
    const primary = await silentRegistrar();
    const backup = await silentRegistrar();
    const { phone: alice, events } = phone({ server: primary.uri, backupServers: [backup.uri] });
    const registering = alice.register().then(() => 'registered', (error: Error) => error.message);
    await until(() => primary.heard() > 0);
    await new Promise((resolve) => setTimeout(resolve, 6 * timers.t1));
    await alice.shutdown();
    await registering;
    const heardAtShutdown = primary.heard();
    await new Promise((resolve) => setTimeout(resolve, 15 * timers.t1));
    expect(backup.heard()).toBe(0);
    expect(primary.heard()).toBe(heardAtShutdown);
    expect(events.filter((e) => e.type === 'error' && e.code === 'SERVER_FAILOVER')).toEqual([]);
  });
});
