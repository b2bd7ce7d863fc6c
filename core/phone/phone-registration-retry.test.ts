import { Core } from 'sip.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { AccountConfig, PhoneEvent, RegistrationSnapshot } from '../api/phone-types.js';
import { Lab } from '../../lab/lab.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { until } from '../../test/support/until.js';
import { freePort } from '../../test/support/free-port.js';
import { boundContact, startRawRegistrar } from '../../test/support/raw-registrar.js';
import { Phone } from './phone.js';

/**
 * The helper's outage (everyday softphone review): the server restarts. Over UDP the refresh that fell in the outage
 * timed out and the phone stayed "Not registered" for good; over TCP the dropped connection went unnoticed until the
 * refresh, and then the same. Now the account registers again by itself once the server is back.
 */
describe('an account whose server restarts', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });
  const timers = { t1: 50, t2: 400 };
  // sip.js's own Timer F (64·T1 of its 500 ms T1: 32 s) ends the refresh lost in the outage: at our T1 here
  const timerF = Core.Timers.TIMER_F;
  afterEach(() => void (Core.Timers.TIMER_F = timerF));

  /** bob (2 s bindings, retries from 400 ms) at `server`, and the registration states he goes through. */
  function bobAt(server: string, transport: 'udp' | 'tcp', extra: Partial<AccountConfig> = {}): { phone: Phone; states: RegistrationSnapshot[] } {
    const phone = new Phone({
      accounts: [{ id: 'bob', user: 'bob', server, transport, domain: '127.0.0.1', registerExpires: 2, ...extra }],
      createSessionDescriptionHandlerFactory: () => staticSdhFactory(),
      timers,
      registrationRetry: { baseMs: 400, random: () => 1 },
    });
    cleanup.push(() => phone.shutdown());
    const states: RegistrationSnapshot[] = [];
    phone.subscribe((e: PhoneEvent) => void (e.type === 'registration' && states.push(e.registration)));
    return { phone, states };
  }

  /**
   * bob registered (2 s bindings) at a lab over `transport`, then the lab stopped, and the registration seen failed or
   * lost: UDP's refresh (about 2 s in) goes unanswered; TCP's connection closes, and the registration fails at once.
   */
  async function registeredThenServerGone(transport: 'udp' | 'tcp', extra: Partial<AccountConfig> = {}): Promise<{ phone: Phone; states: RegistrationSnapshot[]; port: number }> {
    Core.Timers.TIMER_F = 64 * timers.t1;
    const lab = await Lab.start({ timers });
    const port = lab.sip.ports[transport]!;
    const { phone, states } = bobAt(lab.servers[transport]!, transport, extra);
    expect((await phone.register()).state).toBe('registered');
    await lab.stop();
    await until(() => states.some((s) => s.state === 'failed' || s.state === 'unregistered') || undefined, 15_000);
    return { phone, states, port };
  }

  it.each(['udp', 'tcp'] as const)('registers again by itself once the server is back (%s), and says it was lost meanwhile', async (transport) => {
    const { states, port } = await registeredThenServerGone(transport);
    expect(states.at(-1)!.state).not.toBe('registered');
    // down for longer than the REGISTER's own retransmissions (64·T1) and sip.js's reconnections (3 × 1 s) last
    await new Promise((resolve) => setTimeout(resolve, 4500));
    const lab = await Lab.start({ timers, [transport]: port });
    cleanup.push(() => lab.stop());
    await until(() => lab.sip.bindings().some((b) => b.user === 'bob') || undefined, 20_000);
    await until(() => states.at(-1)?.state === 'registered' || undefined, 5000);
  });

  // Over UDP sip.js refreshes at 99 % of the binding's life, so in an outage the binding's expiry comes while the refresh
  // is still retransmitted (64·T1): the account reads "unregistered" with a REGISTER in flight. An unregister then sent
  // nothing, and the refresh landing once the server was back registered the account again, refreshing it for good.
  it('registers nothing again once the user unregistered while a refresh was still in flight (udp)', async () => {
    const { phone, states, port } = await registeredThenServerGone('udp');
    await until(() => states.at(-1)?.state === 'unregistered' || undefined, 5000); // the binding's expiry, refresh in flight
    const unregistered = phone.unregister();
    const registers: string[] = []; // what the lab hears: the refresh's retransmission, then the unregister
    const lab = await Lab.start({ timers, udp: port, tap: (e) => void (e.dir === 'in' && e.raw.startsWith('REGISTER ') && registers.push(e.raw)) });
    cleanup.push(() => lab.stop());
    await unregistered;
    await new Promise((resolve) => setTimeout(resolve, 3000)); // a refresh's worth (2 s bindings)
    const asked = registers.map((raw) => Number(/expires=(\d+)/i.exec(raw)?.[1] ?? /^Expires:\s*(\d+)/im.exec(raw)?.[1]));
    expect(asked[0]).toBeGreaterThan(0); // the refresh in flight did land (else this test proves nothing)
    expect(asked.at(-1)).toBe(0);
    expect(lab.sip.bindings()).toEqual([]);
    expect(states.at(-1)!.state).toBe('unregistered');
  });

  // (over UDP, the test above: the refresh still in flight then)
  it.each(['tcp'] as const)('registers nothing again once the user unregistered during the outage (%s)', async (transport) => {
    const { phone, port } = await registeredThenServerGone(transport);
    await phone.unregister();
    const lab = await Lab.start({ timers, [transport]: port });
    cleanup.push(() => lab.stop());
    await new Promise((resolve) => setTimeout(resolve, 4000)); // several retries' worth
    expect(lab.sip.bindings()).toEqual([]);
  });

  // The second review: an account made while its TCP server was down (start, a settings change) got no connection, so
  // no identity and no registration state: it said "Not registered" for good and never tried again.
  it('registers once its TCP server, down when the phone started, comes up; says "failed" meanwhile', async () => {
    const port = await freePort();
    const { phone, states } = bobAt(`sip:127.0.0.1:${port}`, 'tcp');
    await expect(phone.register()).rejects.toMatchObject({ code: 'TRANSPORT_FAILED' });
    // the snapshot says when the phone tries again (the status bar shows it): the first wait, 400 ms here
    const before = Date.now();
    expect(states).toEqual([expect.objectContaining({ state: 'failed', cause: 'unreachable', server: `127.0.0.1:${port}`, retryAt: expect.any(Number) })]);
    expect(states[0]!.retryAt! - before).toBeLessThanOrEqual(400);
    expect(states[0]!.retryAt!).toBeGreaterThan(before - 400); // a try to come, not one long past
    expect((await phone.snapshot()).registrations[0]).toMatchObject({ state: 'failed', cause: 'unreachable', retryAt: states[0]!.retryAt });
    await new Promise((resolve) => setTimeout(resolve, 1000)); // a try or two meet the closed port
    const lab = await Lab.start({ timers, tcp: port });
    cleanup.push(() => lab.stop());
    await until(() => lab.sip.bindings().some((b) => b.user === 'bob') || undefined, 10_000);
    await until(() => states.at(-1)?.state === 'registered' || undefined, 5000);
    expect(states.at(-1)!.retryAt).toBeUndefined();
  });

  // An account with keep-alives and one server gets no retry of its own (its failover keeps it): after a TCP server's
  // restart its OPTIONS went out on no connection, sip.js answered them itself (a 503), and that read as "alive"; the
  // lost registration was never made again.
  it.each(['tcp', 'udp'] as const)('with keep-alives and one server (%s): registers again once the server answers them', async (transport) => {
    const { states, port } = await registeredThenServerGone(transport, { keepalive: { intervalMs: 300, timeoutMs: 200 } });
    await new Promise((resolve) => setTimeout(resolve, 4500)); // past the REGISTER's retransmissions and sip.js's reconnections
    const back = await Lab.start({ timers, [transport]: port });
    cleanup.push(() => back.stop());
    await until(() => back.sip.bindings().some((b) => b.user === 'bob') || undefined, 10_000);
    await until(() => states.at(-1)?.state === 'registered' || undefined, 5000);
  });

  it('a try due is called off, and no longer shown, when the user unregisters an account whose server was down', async () => {
    const port = await freePort();
    const { phone, states } = bobAt(`sip:127.0.0.1:${port}`, 'tcp');
    await expect(phone.register()).rejects.toMatchObject({ code: 'TRANSPORT_FAILED' });
    expect(states.at(-1)).toMatchObject({ state: 'failed', retryAt: expect.any(Number) });
    await phone.unregister();
    expect(states.at(-1)).toEqual({ accountId: 'bob', state: 'unregistered', server: `127.0.0.1:${port}` });
    const lab = await Lab.start({ timers, tcp: port });
    cleanup.push(() => lab.stop());
    await new Promise((resolve) => setTimeout(resolve, 1500)); // several tries' worth
    expect(lab.sip.bindings()).toEqual([]);
  });

  it.each(['tcp', 'udp'] as const)('with keep-alives, its one server down when the phone starts (%s): registers once the server answers them', async (transport) => {
    const port = await freePort();
    const { phone, states } = bobAt(`sip:127.0.0.1:${port}`, transport, { keepalive: { intervalMs: 300, timeoutMs: 200 } });
    Core.Timers.TIMER_F = 64 * timers.t1;
    await expect(phone.register()).rejects.toBeDefined();
    const lab = await Lab.start({ timers, [transport]: port });
    cleanup.push(() => lab.stop());
    await until(() => lab.sip.bindings().some((b) => b.user === 'bob') || undefined, 10_000);
    await until(() => states.at(-1)?.state === 'registered' || undefined, 5000);
  });

  // The third review: a one-time-address account with keep-alives and a wrong password registered again at every round,
  // from a new address each time (two failed authentications per interval: an account lockout, and the addresses shown)
  it('with keep-alives on one-time addresses and a wrong password: no REGISTER after the refused one', async () => {
    const registers: string[] = [];
    const lab = await Lab.start({ timers, users: { bob: { password: 'right' } }, auth: true, tap: (e) => void (e.dir === 'in' && e.raw.startsWith('REGISTER ') && registers.push(e.raw)) });
    cleanup.push(() => lab.stop());
    const { phone, states } = bobAt(lab.servers.udp!, 'udp', { password: 'wrong', address: { mode: 'temporary', source: 'loopback' }, keepalive: { intervalMs: 200, timeoutMs: 150 } });
    await expect(phone.register()).rejects.toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const settled = registers.length;
    expect(states.at(-1)).toMatchObject({ state: 'failed', cause: 'credentials' }); // not "unregistered": it says why
    await new Promise((resolve) => setTimeout(resolve, 1500)); // seven rounds
    expect(registers.length).toBe(settled);
  });

  it.each([
    ['with no keep-alives', {}],
    ['with keep-alives (300 ms)', { keepalive: { intervalMs: 300, timeoutMs: 200 } }],
  ] as const)("a 503 with Retry-After: 2 (%s): no REGISTER of its own before the 2 s, and it registers after", async (_, extra) => {
    // a registrar on a bare socket (not our stack): 503 with Retry-After until opened, then 200
    let open = false;
    const registrar = await startRawRegistrar((register) => (open ? { status: '200 OK', headers: [boundContact(register, '60')] } : { status: '503 Service Unavailable', headers: ['Retry-After: 2 (maintenance)'] }));
    cleanup.push(() => registrar.close());
    const { phone, states } = bobAt(registrar.uri, 'udp', extra);
    await expect(phone.register()).rejects.toMatchObject({ code: 'REGISTER_FAILED' });
    const refused = registrar.registers[0]!.at;
    const failed = states.find((s) => s.state === 'failed')!;
    expect(failed).toMatchObject({ status: 503 });
    expect(failed).not.toHaveProperty('retryAfterMs'); // what the phone shows is when it tries again, not the header
    if (!('keepalive' in extra)) expect(failed.retryAt! - refused).toBeGreaterThanOrEqual(1990);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the retry's own first wait (400 ms), or five rounds
    expect(registrar.registers).toHaveLength(1);
    open = true;
    await until(() => states.at(-1)?.state === 'registered' || undefined, 5000);
    expect(registrar.registers[1]!.at - refused).toBeGreaterThanOrEqual(1990);
  });

  // review: the commonest Retry-After comes to a refresh of sip.js's own while registered; it was not heard, and the
  // retry came after its own first wait (400 ms here)
  it("a refresh refused 503 with Retry-After: 2: the phone's retry waits the 2 s", async () => {
    const registrar = await startRawRegistrar((register, index) =>
      index === 1 ? { status: '503 Service Unavailable', headers: ['Retry-After: 2'] } : { status: '200 OK', headers: [boundContact(register, '1')] },
    );
    cleanup.push(() => registrar.close());
    const { phone, states } = bobAt(registrar.uri, 'udp');
    expect((await phone.register()).state).toBe('registered');
    await until(() => registrar.registers.length >= 3 || undefined, 6000); // the refresh at ~1 s, then the retry
    expect(registrar.registers[2]!.at - registrar.registers[1]!.at).toBeGreaterThanOrEqual(1990);
    await until(() => states.at(-1)?.state === 'registered' || undefined, 3000);
  });
});
