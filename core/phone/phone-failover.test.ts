import { Core } from 'sip.js';
import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { until } from '../../test/support/until.js';
import type { AccountConfig, PhoneEvent } from '../api/phone-types.js';
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

  it.each(['fixed', 'temporary'] as const)('on a %s address: fails over when its server goes silent, fails back once it answers again (keepalive.primaryRetryMs), and leaves no binding at the backup', async (mode) => {
    let primaryPort = 0;
    let down = false;
    // the primary's link goes down both ways and comes back, as a soft switch that restarts
    const net = new (class extends MemoryNetwork {
      override deliverDatagram(data: Buffer, from: Parameters<MemoryNetwork['deliverDatagram']>[1], to: Parameters<MemoryNetwork['deliverDatagram']>[2]): void {
        if (down && (to.port === primaryPort || from.port === primaryPort)) return;
        super.deliverDatagram(data, from, to);
      }
    })();
    const heardAtPrimary: SipTapEntry[] = [];
    const primary = await Lab.start({ timers, sockets: net, tap: (entry) => heardAtPrimary.push(entry) });
    cleanup.push(() => primary.stop());
    const backup = await Lab.start({ timers, sockets: net });
    cleanup.push(() => backup.stop());
    const endpoint = (uri: string): string => uri.replace(/^sip:/, '').replace(/;.*$/, '');
    primaryPort = Number(endpoint(primary.servers.udp!).split(':')[1]);
    const events: PhoneEvent[] = [];
    const alice = new Phone({
      accounts: [{ id: 'alice', user: 'alice', transport: 'udp', domain: primary.domain, server: primary.servers.udp!, backupServers: [backup.servers.udp!], keepalive: { intervalMs: 100, timeoutMs: 200, primaryRetryMs: 600 }, answer: { kind: 'auto' }, ...(mode === 'temporary' ? { address: { mode: 'temporary', source: 'loopback' } } : {}) }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers,
      sockets: net,
    });
    alice.subscribe((e) => events.push(e));
    cleanup.push(() => alice.shutdown());
    const bindings = (lab: Lab): string[] => lab.sip.snapshot().bindings.filter((b) => b.user === 'alice').map((b) => b.contact);
    await alice.register();
    const before = bindings(primary);
    expect(before).toHaveLength(1);

    down = true;
    const lastRegistration = () => events.filter((e): e is Extract<PhoneEvent, { type: 'registration' }> => e.type === 'registration').at(-1)?.registration;
    const registeredAt = (server: string): boolean => lastRegistration()?.state === 'registered' && lastRegistration()?.server === endpoint(server);
    await until(() => events.some((e) => e.type === 'error' && e.code === 'SERVER_FAILOVER') && bindings(backup).length === 1 && registeredAt(backup.servers.udp!));

    down = false;
    await until(() => events.some((e) => e.type === 'error' && e.code === 'SERVER_FAILBACK'), 10_000);
    // the backup still answers: the account's registration there is undone, not left to expire; and what the failover
    // left at the primary (the Contact of identities now gone) is erased there
    await until(() => bindings(backup).length === 0);
    await until(() => bindings(primary).length === 1 && !bindings(primary).includes(before[0]!));
    await until(() => registeredAt(primary.servers.udp!));
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
    else expect([hostOf(stale), '127.0.0.1', hostOf(/@([^;>]+)/.exec(bindings(primary)[0]!)![1]!)]).not.toContain(sender);
    // a call through the primary reaches the account again
    const bob = new Phone({ accounts: [{ id: 'bob', user: 'bob', transport: 'udp', domain: primary.domain, server: primary.servers.udp! }], createSessionDescriptionHandlerFactory: defaultMediaProvider, timers, sockets: net });
    cleanup.push(() => bob.shutdown());
    const bobEvents: PhoneEvent[] = [];
    bob.subscribe((e) => bobEvents.push(e));
    await bob.register();
    const placed = await bob.call({ target: 'alice' });
    await until(() => bobEvents.some((e) => e.type === 'call' && e.call.id === placed.id && e.call.state === 'established'));
    await bob.hangup(placed.id);
  });

  it('shut down right after failing back while the backup is slow to confirm the unregistration: waits for it (8·T1), sends nothing after', async () => {
    Core.Timers.TIMER_F = 10 * timers.t1;
    let primaryPort = 0;
    let backupPort = 0;
    let primaryDown = true;
    let backupMute = false;
    let toBackup = 0;
    const net = new (class extends MemoryNetwork {
      override deliverDatagram(data: Buffer, from: Parameters<MemoryNetwork['deliverDatagram']>[1], to: Parameters<MemoryNetwork['deliverDatagram']>[2]): void {
        if (primaryDown && (to.port === primaryPort || from.port === primaryPort)) return;
        if (to.port === backupPort) toBackup++;
        if (backupMute && from.port === backupPort) return; // it hears, and answers nothing
        super.deliverDatagram(data, from, to);
      }
    })();
    // the moment the primary hears the account's REGISTER (the failback), the backup stops answering
    const primary = await Lab.start({ timers, sockets: net, tap: (e) => e.dir === 'in' && e.raw.startsWith('REGISTER ') && !primaryDown && (backupMute = true) });
    cleanup.push(() => primary.stop());
    const backup = await Lab.start({ timers, sockets: net });
    cleanup.push(() => backup.stop());
    const endpoint = (uri: string): string => uri.replace(/^sip:/, '').replace(/;.*$/, '');
    primaryPort = Number(endpoint(primary.servers.udp!).split(':')[1]);
    backupPort = Number(endpoint(backup.servers.udp!).split(':')[1]);
    const events: PhoneEvent[] = [];
    const alice = new Phone({
      accounts: [{ id: 'alice', user: 'alice', transport: 'udp', domain: primary.domain, server: primary.servers.udp!, backupServers: [backup.servers.udp!], keepalive: { intervalMs: 100, timeoutMs: 200, primaryRetryMs: 300 } }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers,
      sockets: net,
    });
    alice.subscribe((e) => events.push(e));
    cleanup.push(() => alice.shutdown());
    await alice.register();
    primaryDown = false;
    await until(() => events.some((e) => e.type === 'error' && e.code === 'SERVER_FAILBACK'));
    const began = Date.now();
    await alice.shutdown();
    expect(Date.now() - began).toBeGreaterThanOrEqual(6 * timers.t1); // it waited for the backup's answer, a grace long
    const sent = toBackup;
    await new Promise((resolve) => setTimeout(resolve, 10 * timers.t1));
    expect(toBackup).toBe(sent);
  });

  it('a call up when its server goes silent survives the failover (its media does not pass the server), and no failback ends it', async () => {
    let primaryPort = 0;
    let primaryDown = false;
    const net = new (class extends MemoryNetwork {
      override deliverDatagram(data: Buffer, from: Parameters<MemoryNetwork['deliverDatagram']>[1], to: Parameters<MemoryNetwork['deliverDatagram']>[2]): void {
        if (primaryDown && (to.port === primaryPort || from.port === primaryPort)) return;
        super.deliverDatagram(data, from, to);
      }
    })();
    const primary = await Lab.start({ timers, sockets: net });
    cleanup.push(() => primary.stop());
    const backup = await Lab.start({ timers, sockets: net });
    cleanup.push(() => backup.stop());
    primaryPort = Number(primary.servers.udp!.replace(/^sip:|;.*$/g, '').split(':')[1]);
    const events: PhoneEvent[] = [];
    const alice = new Phone({
      accounts: [{ id: 'alice', user: 'alice', transport: 'udp', domain: primary.domain, server: primary.servers.udp!, backupServers: [backup.servers.udp!], keepalive: { intervalMs: 100, timeoutMs: 200, primaryRetryMs: 300 } }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers,
      sockets: net,
    });
    alice.subscribe((e) => events.push(e));
    cleanup.push(() => alice.shutdown());
    await alice.register();
    const bob = new Phone({ accounts: [{ id: 'bob', user: 'bob', transport: 'udp', domain: primary.domain, server: primary.servers.udp!, answer: { kind: 'auto' } }], createSessionDescriptionHandlerFactory: defaultMediaProvider, timers, sockets: net });
    cleanup.push(() => bob.shutdown());
    await bob.register();
    const placed = await alice.call({ target: 'bob' });
    const state = (): string | undefined => events.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === placed.id).at(-1)?.call.state;
    await until(() => state() === 'established');
    primaryDown = true;
    await until(() => events.some((e) => e.type === 'error' && e.code === 'SERVER_FAILOVER'));
    await until(() => backup.sip.snapshot().bindings.some((b) => b.user === 'alice'));
    const heard = alice.mediaOf(placed.id)!.stats().packetsReceived;
    primaryDown = false; // back: the account would fail back now, but the call is up
    // the primary still has the binding of the identities kept for the call: a second caller through it is refused
    // there (480), not rung on them — they are no longer the account's
    const carol = new Phone({ accounts: [{ id: 'carol', user: 'carol', transport: 'udp', domain: primary.domain, server: primary.servers.udp! }], createSessionDescriptionHandlerFactory: defaultMediaProvider, timers, sockets: net });
    cleanup.push(() => carol.shutdown());
    const carolEvents: PhoneEvent[] = [];
    carol.subscribe((e) => carolEvents.push(e));
    await carol.register();
    const second = await carol.call({ target: 'alice' });
    const secondEnd = await until(() => carolEvents.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === second.id && e.call.state === 'terminated').at(-1)?.call);
    expect(secondEnd.status).toBe(480);
    expect(events.some((e) => e.type === 'incoming')).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(state()).toBe('established');
    expect(alice.mediaOf(placed.id)!.stats().packetsReceived).toBeGreaterThan(heard + 20); // bob is still heard
    expect(events.some((e) => e.type === 'error' && e.code === 'SERVER_FAILBACK')).toBe(false);
    await alice.hangup(placed.id);
    await until(() => events.some((e) => e.type === 'error' && e.code === 'SERVER_FAILBACK'));
  });

  it('does not fail back while a call is up on the backup (it would end it), and does once the call is over', async () => {
    Core.Timers.TIMER_F = 10 * timers.t1;
    let primaryPort = 0;
    let primaryDown = true;
    const net = new (class extends MemoryNetwork {
      override deliverDatagram(data: Buffer, from: Parameters<MemoryNetwork['deliverDatagram']>[1], to: Parameters<MemoryNetwork['deliverDatagram']>[2]): void {
        if (primaryDown && (to.port === primaryPort || from.port === primaryPort)) return;
        super.deliverDatagram(data, from, to);
      }
    })();
    const primary = await Lab.start({ timers, sockets: net });
    cleanup.push(() => primary.stop());
    const backup = await Lab.start({ timers, sockets: net });
    cleanup.push(() => backup.stop());
    primaryPort = Number(primary.servers.udp!.replace(/^sip:|;.*$/g, '').split(':')[1]);
    const events: PhoneEvent[] = [];
    const alice = new Phone({
      accounts: [{ id: 'alice', user: 'alice', transport: 'udp', domain: primary.domain, server: primary.servers.udp!, backupServers: [backup.servers.udp!], keepalive: { intervalMs: 100, timeoutMs: 200, primaryRetryMs: 300 }, answer: { kind: 'auto' } }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers,
      sockets: net,
    });
    alice.subscribe((e) => events.push(e));
    cleanup.push(() => alice.shutdown());
    await alice.register();
    const bob = new Phone({ accounts: [{ id: 'bob', user: 'bob', transport: 'udp', domain: backup.domain, server: backup.servers.udp! }], createSessionDescriptionHandlerFactory: defaultMediaProvider, timers, sockets: net });
    cleanup.push(() => bob.shutdown());
    const bobEvents: PhoneEvent[] = [];
    bob.subscribe((e) => bobEvents.push(e));
    await bob.register();
    const placed = await bob.call({ target: 'alice' });
    const state = (): string | undefined => bobEvents.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === placed.id).at(-1)?.call.state;
    await until(() => state() === 'established');
    primaryDown = false;
    await new Promise((resolve) => setTimeout(resolve, 1000)); // three retry intervals
    expect(events.some((e) => e.type === 'error' && e.code === 'SERVER_FAILBACK')).toBe(false);
    expect(state()).toBe('established');
    await bob.hangup(placed.id);
    await until(() => events.some((e) => e.type === 'error' && e.code === 'SERVER_FAILBACK'));
    await until(() => backup.sip.snapshot().bindings.filter((b) => b.user === 'alice').length === 0);
  });

  it('a call that reaches the backup while a failback is under way is taken, outlives the failback, and the backup is cleared after it', async () => {
    Core.Timers.TIMER_F = 10 * timers.t1;
    let primaryPort = 0;
    let primaryDown = true;
    let holdRegisterAnswers = false;
    const held: Array<() => void> = [];
    const net = new (class extends MemoryNetwork {
      override deliverDatagram(data: Buffer, from: Parameters<MemoryNetwork['deliverDatagram']>[1], to: Parameters<MemoryNetwork['deliverDatagram']>[2]): void {
        if (primaryDown && (to.port === primaryPort || from.port === primaryPort)) return;
        const text = data.toString('latin1');
        if (holdRegisterAnswers && from.port === primaryPort && text.startsWith('SIP/2.0') && /^CSeq: \d+ REGISTER/m.test(text)) {
          held.push(() => super.deliverDatagram(data, from, to));
          return;
        }
        super.deliverDatagram(data, from, to);
      }
    })();
    const primary = await Lab.start({ timers, sockets: net });
    cleanup.push(() => primary.stop());
    const backup = await Lab.start({ timers, sockets: net });
    cleanup.push(() => backup.stop());
    primaryPort = Number(primary.servers.udp!.replace(/^sip:|;.*$/g, '').split(':')[1]);
    const events: PhoneEvent[] = [];
    const alice = new Phone({
      accounts: [{ id: 'alice', user: 'alice', transport: 'udp', domain: primary.domain, server: primary.servers.udp!, backupServers: [backup.servers.udp!], keepalive: { intervalMs: 100, timeoutMs: 200, primaryRetryMs: 300 }, answer: { kind: 'auto' } }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers,
      sockets: net,
    });
    alice.subscribe((e) => events.push(e));
    cleanup.push(() => alice.shutdown());
    await alice.register(); // the primary is down: at the backup
    const bob = new Phone({ accounts: [{ id: 'bob', user: 'bob', transport: 'udp', domain: backup.domain, server: backup.servers.udp! }], createSessionDescriptionHandlerFactory: defaultMediaProvider, timers, sockets: net });
    cleanup.push(() => bob.shutdown());
    const bobEvents: PhoneEvent[] = [];
    bob.subscribe((e) => bobEvents.push(e));
    await bob.register();
    holdRegisterAnswers = true;
    primaryDown = false;
    await until(() => held.length > 0); // the failback's REGISTER reached the primary; its answer waits
    const placed = await bob.call({ target: 'alice' });
    const state = (): string | undefined => bobEvents.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === placed.id).at(-1)?.call.state;
    await until(() => state() === 'established');
    holdRegisterAnswers = false;
    for (const deliver of held.splice(0)) deliver();
    await until(() => events.some((e) => e.type === 'error' && e.code === 'SERVER_FAILBACK'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(state()).toBe('established');
    expect(backup.sip.snapshot().bindings.filter((b) => b.user === 'alice')).toHaveLength(1);
    await bob.hangup(placed.id);
    await until(() => backup.sip.snapshot().bindings.filter((b) => b.user === 'alice').length === 0);
  });

  it('stays registered at the backup when the primary answers OPTIONS again but refuses the REGISTER', async () => {
    Core.Timers.TIMER_F = 10 * timers.t1; // the first REGISTER's timeout, while the primary is down
    let primaryPort = 0;
    let down = true;
    const net = new (class extends MemoryNetwork {
      override deliverDatagram(data: Buffer, from: Parameters<MemoryNetwork['deliverDatagram']>[1], to: Parameters<MemoryNetwork['deliverDatagram']>[2]): void {
        if (down && (to.port === primaryPort || from.port === primaryPort)) return;
        super.deliverDatagram(data, from, to);
      }
    })();
    const refusals: SipTapEntry[] = [];
    // the primary comes back knowing alice by another password: it answers OPTIONS, and refuses her REGISTER
    const primary = await Lab.start({ timers, sockets: net, auth: true, users: { alice: { password: 'not-hers' }, bob: {} }, tap: (e) => e.dir === 'out' && /^SIP\/2\.0 401/.test(e.raw) && /^CSeq: \d+ REGISTER/m.test(e.raw) && refusals.push(e) });
    cleanup.push(() => primary.stop());
    const backup = await Lab.start({ timers, sockets: net });
    cleanup.push(() => backup.stop());
    const endpoint = (uri: string): string => uri.replace(/^sip:/, '').replace(/;.*$/, '');
    primaryPort = Number(endpoint(primary.servers.udp!).split(':')[1]);
    const events: PhoneEvent[] = [];
    const alice = new Phone({
      accounts: [{ id: 'alice', user: 'alice', password: 'hers', transport: 'udp', domain: primary.domain, server: primary.servers.udp!, backupServers: [backup.servers.udp!], keepalive: { intervalMs: 100, timeoutMs: 200, primaryRetryMs: 300 }, answer: { kind: 'auto' } }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers,
      sockets: net,
    });
    alice.subscribe((e) => events.push(e));
    cleanup.push(() => alice.shutdown());
    await alice.register();
    const atBackup = backup.sip.snapshot().bindings.filter((b) => b.user === 'alice');
    expect(atBackup).toHaveLength(1);
    down = false;
    await until(() => refusals.length >= 4); // challenged, refused with her credentials; and again after another interval
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(backup.sip.snapshot().bindings.filter((b) => b.user === 'alice')).toEqual(atBackup); // never unregistered there
    expect(events.some((e) => e.type === 'error' && e.code === 'SERVER_FAILBACK')).toBe(false);
    expect((await alice.snapshot()).registrations[0]).toMatchObject({ state: 'registered', server: endpoint(backup.servers.udp!) });
    // and it is reached there: a call through the backup rings it
    const bob = new Phone({ accounts: [{ id: 'bob', user: 'bob', transport: 'udp', domain: backup.domain, server: backup.servers.udp! }], createSessionDescriptionHandlerFactory: defaultMediaProvider, timers, sockets: net });
    cleanup.push(() => bob.shutdown());
    const bobEvents: PhoneEvent[] = [];
    bob.subscribe((e) => bobEvents.push(e));
    await bob.register();
    const placed = await bob.call({ target: 'alice' });
    await until(() => bobEvents.some((e) => e.type === 'call' && e.call.id === placed.id && e.call.state === 'established'));
    await bob.hangup(placed.id);
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
