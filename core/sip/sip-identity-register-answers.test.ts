import { afterEach, describe, expect, it } from 'vitest';
import type { RegistrationState } from '../api/phone-types.js';
import { boundContact, startRawRegistrar, type RawAnswer, type RawRegister } from '../../test/support/raw-registrar.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { SipIdentity } from './sip-identity.js';

/**
 * A registrar that answers badly (played on a bare UDP socket, not our stack) can neither hang the phone's Register nor
 * make it send REGISTERs in a loop (tools/postinstall/sipjs-register-answers.js). Before: a 2xx without our binding
 * left Register waiting for ever; an `expires` missing, 0 or past Node's timers made ~500 REGISTERs a second; a
 * `423 Min-Expires: 1` about 3,000 a second.
 */
describe('a REGISTER answered badly (RFC 3261 §10.2.4, §10.2.8)', () => {
  const cleanup: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** bob asking 60 s bindings at a raw registrar answering as `answer` says, and his registration states. */
  async function bobAt(answer: (register: RawRegister, index: number) => RawAnswer): Promise<{ identity: SipIdentity; registers: RawRegister[]; states: RegistrationState[] }> {
    const registrar = await startRawRegistrar(answer);
    cleanup.push(() => registrar.close());
    const states: RegistrationState[] = [];
    const identity = await SipIdentity.create({
      aor: { user: 'bob', domain: '127.0.0.1' },
      transport: 'udp',
      local: { address: '127.0.0.1', port: 0 },
      server: { address: '127.0.0.1', port: Number(registrar.uri.split(':').at(-1)) },
      sessionDescriptionHandlerFactory: staticSdhFactory(),
      registerExpires: 60,
      timers: { t1: 50, t2: 400 },
      onRegistrationChange: (state) => void states.push(state),
    });
    cleanup.push(() => identity.dispose({ serverGone: true }));
    return { identity, registers: registrar.registers, states };
  }

  const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const expiresAsked = (register: RawRegister) => Number(/;\s*expires=(\d+)/i.exec(register.contact)?.[1]);

  it.each([
    ['no Contact', () => ({ status: '200 OK' })],
    ["someone else's Contact only", () => ({ status: '200 OK', headers: ['Contact: <sip:carol@127.0.0.9:5060>;expires=60'] })],
    ['our Contact without an expiry', (r: RawRegister) => ({ status: '200 OK', headers: [boundContact(r)] })],
    ['our Contact with expires=0', (r: RawRegister) => ({ status: '200 OK', headers: [boundContact(r, '0')] })],
    ['our Contact with expires=soon', (r: RawRegister) => ({ status: '200 OK', headers: [boundContact(r).replace(/>?$/, (m) => `${m};expires=soon`)] })],
  ])('a 200 with %s: Register fails "registered nothing", and nothing more is sent', async (_, answer) => {
    const { identity, registers, states } = await bobAt(answer);
    await expect(identity.register()).rejects.toMatchObject({ code: 'REGISTER_FAILED', status: 200, registrationCause: 'no-binding' });
    await settle(1000);
    expect(registers).toHaveLength(1);
    expect(states.at(-1)).toBe('failed');
  });

  it('a 200 whose interval is in its Expires header (no parameter) registers, as RFC 3261 §10.2.4 says', async () => {
    const { identity, registers } = await bobAt((r) => ({ status: '200 OK', headers: [boundContact(r), 'Expires: 60'] }));
    await expect(identity.register()).resolves.toBe(200);
    await settle(1000);
    expect(registers).toHaveLength(1);
  });

  it("a binding granted for longer than Node's timers reach (4,000,000 s) is refreshed in weeks, not at once", async () => {
    const { identity, registers } = await bobAt((r) => ({ status: '200 OK', headers: [boundContact(r, '4000000')] }));
    await expect(identity.register()).resolves.toBe(200);
    await settle(1000);
    expect(registers).toHaveLength(1);
  });

  it('a 423 with a longer Min-Expires: sent once more with it, and Register resolves with that answer', async () => {
    const { identity, registers } = await bobAt((r, i) => (i === 0 ? { status: '423 Interval Too Brief', headers: ['Min-Expires: 3600'] } : { status: '200 OK', headers: [boundContact(r, '3600')] }));
    await expect(identity.register()).resolves.toBe(200);
    expect(registers.map(expiresAsked)).toEqual([60, 3600]);
  });

  it('a second 423 is a refusal: two REGISTERs in all', async () => {
    const { identity, registers } = await bobAt((_, i) => ({ status: '423 Interval Too Brief', headers: [`Min-Expires: ${3600 + i}`] }));
    await expect(identity.register()).rejects.toMatchObject({ code: 'REGISTER_FAILED', status: 423 });
    await settle(1000);
    expect(registers.map(expiresAsked)).toEqual([60, 3600]);
  });

  it.each([['1'], ['60'], ['86401'], ['0x100'], [undefined]])('a 423 with Min-Expires %s (not longer than asked, over a day, no number, none) is a refusal, not sent again', async (min) => {
    const { identity, registers } = await bobAt(() => ({ status: '423 Interval Too Brief', headers: min === undefined ? [] : [`Min-Expires: ${min}`] }));
    await expect(identity.register()).rejects.toMatchObject({ code: 'REGISTER_FAILED', status: 423 });
    await settle(1000);
    expect(registers).toHaveLength(1);
  });

  it("sip.js's own refresh answered by a 200 without our binding: the registration is lost, and no REGISTER loop follows", async () => {
    const { identity, registers, states } = await bobAt((r, i) => (i === 0 ? { status: '200 OK', headers: [boundContact(r, '1')] } : { status: '200 OK' }));
    await expect(identity.register()).resolves.toBe(200);
    await settle(2500); // the refresh at 99 % of 1 s, then more than a second of nothing
    expect(registers).toHaveLength(2);
    expect(states.at(-1)).toBe('unregistered');
  });
});
