import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { labBootFiles } from '../../lab/service-gateway/lab-boot-file.js';
import type { CallSnapshot, LeaseStatus, PhoneEvent } from '../api/phone-types.js';
import type { LeaseEvent, LeaseState } from '../lease/lease-client.js';
import type { Lease } from '../lease/lease.js';
import { PortPool } from '../lease/port-pool.js';
import { defaultMediaProvider } from './default-media.js';
import type { LeaseWatch } from './lease-health.js';
import { Phone } from './phone.js';
import { provisionedAccount, provisionPhone } from './provision-phone.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { until } from '../../test/support/until.js';

const timers = { t1: 100, t2: 400 };

/** A lease client the test moves through RFC 2131 states by hand. */
class FakeLeaseWatch implements LeaseWatch {
  state: LeaseState = 'BOUND';
  private readonly listeners = new Set<(event: LeaseEvent) => void>();
  constructor(public lease: Lease | undefined) {}
  on(listener: (event: LeaseEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  private lossAction: ((lease: Lease, reason: string) => Promise<void>) | undefined;
  beforeLoss(action: (lease: Lease, reason: string) => Promise<void>): () => void {
    this.lossAction = action;
    return () => void (this.lossAction = undefined);
  }
  /** As LeaseClient does when the action outlasts relinquishMs: INIT at once, the action still running (returned). */
  loseWithoutWaiting(reason: string): Promise<void> {
    const acting = this.lossAction?.(this.lease!, reason) ?? Promise.resolve();
    this.move('INIT', reason, undefined);
    return acting;
  }
  /** As LeaseClient loses a lease: the beforeLoss action first, then INIT. */
  async lose(reason: string): Promise<void> {
    await this.lossAction?.(this.lease!, reason);
    this.move('INIT', reason, undefined);
  }
  move(to: LeaseState, reason: string, lease = this.lease): void {
    const from = this.state;
    this.state = to;
    this.lease = lease;
    for (const listener of this.listeners) listener({ type: 'state', from, to, reason });
  }
}

function leaseOf(address: string, range: { min: number; max: number }, expiresAt: number): Lease {
  return { source: 'dhcp', address, portRange: range, mgc: [], obtainedAt: Date.now(), renewAt: expiresAt - 2000, rebindAt: expiresAt - 1000, expiresAt, leaseSeconds: 60 };
}

const leaseEvents = (events: PhoneEvent[]): LeaseStatus[] => events.flatMap((e) => (e.type === 'lease' ? [e.lease] : []));
/** The lease states the events went through, repeats (port counts changing) folded. */
const transitions = (events: PhoneEvent[]): string[] => leaseEvents(events).map((l) => l.state).filter((state, i, all) => i === 0 || all[i - 1] !== state);


/** SIP of the first two tests through the in-memory network; the ones provisioned by the lab's DHCP server on real sockets. */
describe('a phone on a leased port range (seed 003)', () => {
  const network = new MemoryNetwork();
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('binds SIP and RTP/RTCP inside the range and refuses a call that does not fit, never falling back to an OS port', async () => {
    const lab = await Lab.start({ timers, sockets: network });
    cleanup.push(() => lab.stop());
    const pool = new PortPool({ min: 31000, max: 31003 }); // one SIP port and one RTP/RTCP pair
    const events: PhoneEvent[] = [];
    const alice = new Phone({
      accounts: [{ id: 'alice', user: 'alice', server: lab.servers.udp!, transport: 'udp', domain: lab.domain }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers,
      sockets: network,
      lease: { pool, privateAddress: '10.77.0.10', natAddress: '198.51.100.7' },
    });
    alice.subscribe((e) => events.push(e));
    cleanup.push(() => alice.shutdown());
    const bob = new Phone({ accounts: [{ id: 'bob', user: 'bob', server: lab.servers.udp!, transport: 'udp', domain: lab.domain, answer: { kind: 'auto' } }], createSessionDescriptionHandlerFactory: defaultMediaProvider, timers, sockets: network });
    cleanup.push(() => bob.shutdown());
    await bob.register();
    await alice.register();
    const placed = await alice.call({ target: 'bob' });
    const last = (id: string): CallSnapshot | undefined => events.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === id).at(-1)?.call;
    await until(() => last(placed.id)?.state === 'established' && last(placed.id)?.media?.localRtp);
    expect(placed.localSip).toMatch(/:3100[0-3]$/);
    expect((await alice.snapshot()).lease).toEqual({ state: 'bound', address: '10.77.0.10', ports: { min: 31000, max: 31003 }, inUse: 3, capacity: 4, nat: '198.51.100.7' });
    // the SIP port broke one pair; RTP and RTCP took the other
    const sipPort = Number(placed.localSip!.split(':').at(-1));
    expect(Number(last(placed.id)!.media!.localRtp!.split(':').at(-1))).toBe(sipPort < 31002 ? 31002 : 31000);
    await expect(alice.call({ target: 'bob' })).rejects.toMatchObject({ code: 'PORT_RANGE_EXHAUSTED' });
    expect(leaseEvents(events).at(-1)).toMatchObject({ state: 'bound', inUse: 3 }); // the status bar saw the pair taken
    await alice.hangup(placed.id);
    await until(() => last(placed.id)?.state === 'terminated');
    await until(() => pool.snapshot().freePairs === 1);
    await until(() => leaseEvents(events).at(-1)?.inUse === 1); // and given back
    const again = await alice.call({ target: 'bob' }); // the pair came back
    await until(() => last(again.id)?.state === 'established');
    expect(last(again.id)!.media!.localRtp).toMatch(/:3100[02]$/);
  });

  it('follows the lease client: renewing and rebinding are shown, a lost lease is an error and refuses calls both ways, and a new lease is moved onto once no call runs', async () => {
    const lab = await Lab.start({ timers, sockets: network });
    cleanup.push(() => lab.stop());
    const range = { min: 31100, max: 31109 };
    const expiresAt = Date.now() + 60_000;
    const watch = new FakeLeaseWatch(leaseOf('10.77.0.11', range, expiresAt));
    const events: PhoneEvent[] = [];
    const alice = new Phone({
      accounts: [{ id: 'alice', user: 'alice', server: lab.servers.udp!, transport: 'udp', domain: lab.domain }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers,
      sockets: network,
      lease: { pool: new PortPool(range), privateAddress: '10.77.0.11', watch },
    });
    alice.subscribe((e) => events.push(e));
    cleanup.push(() => alice.shutdown());
    const bob = new Phone({ accounts: [{ id: 'bob', user: 'bob', server: lab.servers.udp!, transport: 'udp', domain: lab.domain }], createSessionDescriptionHandlerFactory: defaultMediaProvider, timers, sockets: network });
    cleanup.push(() => bob.shutdown());
    await Promise.all([alice.register(), bob.register()]);
    expect((await alice.snapshot()).lease).toMatchObject({ state: 'bound', expiresAt, address: '10.77.0.11' });

    watch.move('RENEWING', 'T1');
    watch.move('REBINDING', 'T2: no answer from the leasing server');
    expect(transitions(events).slice(-2)).toEqual(['renewing', 'rebinding']);
    expect(leaseEvents(events).at(-1)!.expiresAt).toBe(expiresAt);

    watch.move('INIT', 'lease expired', undefined);
    expect(leaseEvents(events).at(-1)).toMatchObject({ state: 'lost', address: '10.77.0.11' });
    expect(leaseEvents(events).at(-1)!.expiresAt).toBeUndefined();
    expect(events.filter((e) => e.type === 'error' && e.code === 'LEASE_LOST')).toHaveLength(1);
    await expect(alice.call({ target: 'bob' })).rejects.toMatchObject({ code: 'LEASE_LOST' });

    // An incoming call is turned away with 503 rather than run on ports that are no longer ours.
    const bobEvents: PhoneEvent[] = [];
    bob.subscribe((e) => bobEvents.push(e));
    const toAlice = await bob.call({ target: 'alice' });
    await until(() => bobEvents.some((e) => e.type === 'call' && e.call.id === toAlice.id && e.call.state === 'terminated'));
    const ended = bobEvents.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === toAlice.id).at(-1)!.call;
    expect(ended.status).toBe(503);
    expect(events.filter((e) => e.type === 'incoming')).toEqual([]); // it never rang at alice's, nor notified her

    // The same lease again: back in service, nothing moves.
    watch.move('BOUND', 'same lease', leaseOf('10.77.0.11', range, Date.now() + 60_000));
    expect(leaseEvents(events).at(-1)!.state).toBe('bound');

    // Lost while a call rings, then bound to another address and range (RFC 2131 §3.1: a new DISCOVER). The call's
    // sockets are on the old ports, so the phone waits; once it ends, the account moves onto the new range.
    const ringing = await alice.call({ target: 'bob' });
    await until(() => events.some((e) => e.type === 'call' && e.call.id === ringing.id && e.call.state === 'ringing'));
    watch.move('INIT', 'lease expired', undefined);
    const moved = { min: 32000, max: 32009 };
    watch.move('BOUND', 'new lease', leaseOf('10.77.0.12', moved, Date.now() + 60_000));
    expect(leaseEvents(events).at(-1)!.state).toBe('lost');
    expect(events.filter((e) => e.type === 'error' && e.code === 'LEASE_LOST')).toHaveLength(2);
    const portsOfAlice = (): number[] => lab.sip.snapshot().bindings.filter((b) => b.user === 'alice').map((b) => Number(b.source.split(':').at(-1)));
    expect(portsOfAlice().every((port) => port >= range.min && port <= range.max)).toBe(true);
    await alice.hangup(ringing.id);
    await until(() => (leaseEvents(events).at(-1)?.state === 'bound' && leaseEvents(events).at(-1)!.address === '10.77.0.12' ? true : undefined));
    expect(leaseEvents(events).at(-1)).toMatchObject({ state: 'bound', address: '10.77.0.12', ports: moved });
    // Registered again from the new range, and only from there: the old binding was removed on the way.
    await until(() => (portsOfAlice().length === 1 && portsOfAlice()[0]! >= moved.min && portsOfAlice()[0]! <= moved.max ? true : undefined));
    const again = await alice.call({ target: 'bob' });
    expect(Number(again.localSip!.split(':').at(-1))).toBeGreaterThanOrEqual(moved.min);
    await until(() => events.some((e) => e.type === 'call' && e.call.id === again.id && e.call.state === 'ringing'));
    await alice.hangup(again.id);
  });

  // helper 73: the lease ran out mid-call; the call stayed up and the registrar kept alice's binding at the leased
  // address, which the DHCP server may give to another host: alice's calls would ring there (RFC 2131 §4.4.5)
  it('a lease about to go ends its calls with BYE and removes its bindings first; the same lease back registers again', async () => {
    const registers: string[] = [];
    const byes: string[] = [];
    const lab = await Lab.start({
      timers,
      sockets: network,
      tap: (e) => {
        if (e.dir === 'in' && e.raw.startsWith('REGISTER ') && /<sip:alice@/.test(e.raw)) registers.push(e.raw);
        if (e.dir === 'in' && e.raw.startsWith('BYE ')) byes.push(e.raw);
      },
    });
    cleanup.push(() => lab.stop());
    const range = { min: 31200, max: 31209 };
    const watch = new FakeLeaseWatch(leaseOf('10.77.0.21', range, Date.now() + 60_000));
    // with keep-alives (their rounds far apart): no registration retry of its own would register it again by chance
    const alice = new Phone({
      accounts: [{ id: 'alice', user: 'alice', server: lab.servers.udp!, transport: 'udp', domain: lab.domain, keepalive: { intervalMs: 60_000, timeoutMs: 2000 } }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers,
      sockets: network,
      lease: { pool: new PortPool(range), privateAddress: '10.77.0.21', watch },
    });
    cleanup.push(() => alice.shutdown());
    const bob = new Phone({ accounts: [{ id: 'bob', user: 'bob', server: lab.servers.udp!, transport: 'udp', domain: lab.domain, answer: { kind: 'auto' } }], createSessionDescriptionHandlerFactory: defaultMediaProvider, timers, sockets: network });
    cleanup.push(() => bob.shutdown());
    const bobEvents: PhoneEvent[] = [];
    bob.subscribe((e) => bobEvents.push(e));
    await Promise.all([alice.register(), bob.register()]);
    const aliceEvents: PhoneEvent[] = [];
    alice.subscribe((e) => aliceEvents.push(e));
    const call = await alice.call({ target: 'bob' });
    // up on both sides (else alice's end of it, still calling, would be a CANCEL)
    await until(() => bobEvents.some((e) => e.type === 'call' && e.call.state === 'established') || undefined);
    await until(() => aliceEvents.some((e) => e.type === 'call' && e.call.id === call.id && e.call.state === 'established') || undefined);

    watch.move('RENEWING', 'T1');
    watch.move('REBINDING', 'T2: no answer from the leasing server');
    await watch.lose('lease expired');
    expect(byes).toHaveLength(1); // alice's BYE, sent before the address went
    const bobsCall = () => bobEvents.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call').at(-1)!.call;
    await until(() => bobsCall().state === 'terminated' || undefined, 2000);
    expect(bobsCall()).toMatchObject({ state: 'terminated', endedBy: 'remote' }); // alice's BYE, sent from the leased address
    expect(lab.sip.bindings().filter((b) => b.user === 'alice')).toEqual([]); // REGISTER Expires: 0 before the address went
    expect((await alice.snapshot()).calls.find((c) => c.id === call.id)?.state ?? 'terminated').toBe('terminated');
    const before = registers.length;
    await new Promise((resolve) => setTimeout(resolve, 600)); // nothing registers while there is no lease
    expect(registers.length).toBe(before);

    watch.move('BOUND', 'same lease', leaseOf('10.77.0.21', range, Date.now() + 60_000));
    await until(() => lab.sip.bindings().some((b) => b.user === 'alice') || undefined, 5000);

    // review: the same lease back while the unregister still ran (the lease client waits only relinquishMs for it):
    // the accounts were unregistered after the lease was bound again, and nothing registered them
    await until(() => registers.length > before || undefined);
    const acting = watch.loseWithoutWaiting('NAK while renewing');
    watch.move('BOUND', 'same lease again', leaseOf('10.77.0.21', range, Date.now() + 60_000));
    await acting;
    await until(() => lab.sip.bindings().some((b) => b.user === 'alice') || undefined, 5000);
  });

  it('provisioned from the lab gateway: renewals extend the lease, and when the DHCP server goes away it is renewing, rebinding, then lost', async () => {
    // Lease times compressed: one lease second is 100 ms (T1 0.2 s, T2 0.5 s, expiry 0.8 s).
    const lab = await Lab.start({ timers, serviceGateway: { ...labBootFiles, leaseSeconds: 8, renewalSeconds: 2, rebindingSeconds: 5, secondMs: 100 } });
    cleanup.push(() => lab.stop());
    const provisioned = await provisionPhone({ gateway: lab.serviceGateway!.endpoints, vendorClass: 'Veilphone-1', timing: { secondMs: 100, minRenewWaitMs: 20, initialWaitMs: 60, maxWaitMs: 200, jitterMs: 20 } });
    cleanup.push(() => provisioned.release());
    const events: PhoneEvent[] = [];
    const phone = new Phone({
      accounts: [{ id: 'carol', user: 'carol', transport: 'udp', domain: lab.domain, ...provisioned.account }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers,
      lease: provisioned.phoneLease,
    });
    phone.subscribe((e) => events.push(e));
    cleanup.push(() => phone.shutdown());
    await phone.register();
    const first = (await phone.snapshot()).lease!;
    expect(first).toMatchObject({ state: 'bound', address: provisioned.lease.address, ports: provisioned.lease.portRange, nat: '198.51.100.7' });

    await until(() => leaseEvents(events).some((l) => l.state === 'bound' && l.expiresAt! > first.expiresAt!));
    expect(transitions(events).slice(-2)).toEqual(['renewing', 'bound']);

    await lab.serviceGateway!.dhcp.stop();
    await until(() => leaseEvents(events).at(-1)?.state === 'lost', 8000);
    expect(transitions(events).slice(-4)).toEqual(['bound', 'renewing', 'rebinding', 'lost']);
    await expect(phone.call({ target: 'carol' })).rejects.toMatchObject({ code: 'LEASE_LOST' });
  });

  // helper 73: the boot file's `[account desk]` with `anonymous = yes` was ignored, and its calls showed the caller
  it("takes the boot file's account for its user: password, display name and the operator's anonymity (the call is withheld)", async () => {
    const bootFile = ['[veilphone]', 'format = 1', 'registrar = mgc', '', '[account desk]', 'user = 1001', 'display_name = Front Desk', 'password = s3cret', 'anonymous = yes', 'anonymity_mode = header', '', '[account lobby]', 'user = 1002', ''].join('\n');
    const lab = await Lab.start({ timers, serviceGateway: { bootFile: 'desk.cfg', files: { 'desk.cfg': bootFile } } });
    cleanup.push(() => lab.stop());
    const provisioned = await provisionPhone({ gateway: lab.serviceGateway!.endpoints, vendorClass: 'Veilphone-1' });
    cleanup.push(() => provisioned.release());
    const desk = { displayName: 'Front Desk', password: 's3cret', anonymity: { anonymous: true, mode: 'header', level: 'id' } };
    expect(provisioned.accountSettings()).toEqual({ id: 'desk', user: '1001', ...desk }); // no user given: the first account
    expect(provisioned.accountSettings('1001')).toEqual(desk); // by its user
    expect(provisioned.accountSettings('desk')).toEqual(desk); // by its name
    expect(provisioned.accountSettings('1002')).toEqual({});
    expect(provisioned.accountSettings('alice')).toBeUndefined(); // no account of the file's: nothing of another's
    // the one rule every host uses: what the host was told wins; with no user given, the file's first account runs
    expect(provisionedAccount(provisioned, { id: 'x', user: '1001', password: 'from-cli' })).toMatchObject({ id: 'x', user: '1001', password: 'from-cli', displayName: 'Front Desk', anonymity: desk.anonymity, server: provisioned.account.server });
    expect(provisionedAccount(provisioned, { id: 'alice', user: 'alice' }, false)).toMatchObject({ id: 'desk', user: '1001', password: 's3cret', anonymity: desk.anonymity });
    expect(provisionedAccount(provisioned, { id: 'alice', user: 'alice' })).toEqual({ id: 'alice', user: 'alice', ...provisioned.account });
    const phone = new Phone({
      accounts: [{ id: 'desk', user: '1001', transport: 'udp', domain: lab.domain, ...provisioned.accountSettings('1001'), ...provisioned.account }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers,
      lease: provisioned.phoneLease,
    });
    cleanup.push(() => phone.shutdown());
    const bob = new Phone({ accounts: [{ id: 'bob', user: 'bob', server: lab.servers.udp!, transport: 'udp', domain: lab.domain }], createSessionDescriptionHandlerFactory: defaultMediaProvider, timers });
    cleanup.push(() => bob.shutdown());
    const rung: PhoneEvent[] = [];
    bob.subscribe((e) => void (e.type === 'incoming' && rung.push(e)));
    await Promise.all([phone.register(), bob.register()]);
    const call = await phone.call({ target: 'bob' });
    expect(call.anonymity).toBe('header');
    const incoming = await until(() => rung[0]);
    expect(incoming).toMatchObject({ call: { remote: expect.objectContaining({ anonymous: true }) } });
    expect(JSON.stringify(incoming)).not.toMatch(/1001|Front Desk/);
  });

  // helper 73: with a boot file the TFTP server did not have, `serve --provision dhcp` exited with the lease still held
  // (and, on a network interface, its address still on it) until it ran out
  it('gives the lease back when provisioning fails after the lease (a boot file that is not there)', async () => {
    const lab = await Lab.start({ timers, serviceGateway: { bootFile: 'missing.cfg', files: {} } });
    cleanup.push(() => lab.stop());
    await expect(provisionPhone({ gateway: lab.serviceGateway!.endpoints, vendorClass: 'Veilphone-1' })).rejects.toMatchObject({ code: 'TFTP_FILE_NOT_FOUND' });
    const leases = lab.serviceGateway!.dhcp.leases();
    expect(leases).toHaveLength(1);
    await until(() => lab.serviceGateway!.dhcp.leases()[0]!.state === 'released' || undefined, 2000);
  });

  it('gives the lease back when it shuts down (RFC 2131 §4.4.6 RELEASE)', async () => {
    const lab = await Lab.start({ timers, serviceGateway: labBootFiles });
    cleanup.push(() => lab.stop());
    const provisioned = await provisionPhone({ gateway: lab.serviceGateway!.endpoints, vendorClass: 'Veilphone-1' });
    const phone = new Phone({
      accounts: [{ id: 'dave', user: 'dave', transport: 'udp', domain: lab.domain, ...provisioned.account }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers,
      lease: provisioned.phoneLease,
    });
    await phone.register();
    const held = () => lab.serviceGateway!.dhcp.leases().find((l) => l.address === provisioned.lease.address)?.state;
    expect(held()).toBe('bound');
    await phone.shutdown();
    await until(() => held() === 'released');
  });
});
