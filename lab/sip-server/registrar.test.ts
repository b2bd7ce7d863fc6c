import { describe, expect, it, vi } from 'vitest';
import { formatSipUri, parseSipMessage, parseSipUri, type SipRequest } from '../../core/sip/message/index.js';
import { contactKey, Registrar } from './registrar.js';
import { rng } from '../../test/support/signing-fixtures.js';
import type { Hop } from './server-transports.js';

const hop: Hop = { transport: 'udp', remote: { address: '127.0.0.1', port: 5070 } };
let cseq = 1;

function register(user: string, contacts: string[], options: { expires?: number; callId?: string; userAgent?: string; cseq?: number } = {}): SipRequest {
  const lines = [
    'REGISTER sip:lab.invalid SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK${cseq}x`,
    `From: <sip:${user}@lab.invalid>;tag=t${cseq}`,
    `To: <sip:${user}@lab.invalid>`,
    `Call-ID: ${options.callId ?? `reg-${user}`}`,
    `CSeq: ${options.cseq ?? cseq++} REGISTER`,
    ...contacts.map((c) => `Contact: ${c}`),
    ...(options.expires !== undefined ? [`Expires: ${options.expires}`] : []),
    ...(options.userAgent !== undefined ? [`User-Agent: ${options.userAgent}`] : []),
    'Content-Length: 0',
    '',
    '',
  ];
  return parseSipMessage(lines.join('\r\n')) as SipRequest;
}

const contact = (user: string, port: number): string => `<sip:${user}@127.0.0.1:${port}>`;

describe('Registrar limits (a location service open to the network)', () => {
  it('refuses a new contact beyond the per-user limit with 503, and still refreshes and removes the ones it has', () => {
    const registrar = new Registrar({ maxContactsPerUser: 2 });
    expect(registrar.handleRegister(register('alice', [contact('alice', 6001)]), hop).status).toBe(200);
    expect(registrar.handleRegister(register('alice', [contact('alice', 6002)]), hop).status).toBe(200);

    const refused = registrar.handleRegister(register('alice', [contact('alice', 6003)]), hop);
    expect(refused.status).toBe(503);
    expect(refused.get('retry-after')).toBe('60');
    expect(registrar.lookup('alice').map((b) => b.contact.uri.port).sort()).toEqual([6001, 6002]);

    // A refresh of a held contact adds nothing and passes; so does a removal, which makes room again.
    expect(registrar.handleRegister(register('alice', [contact('alice', 6001)]), hop).status).toBe(200);
    expect(registrar.handleRegister(register('alice', [contact('alice', 6002)], { expires: 0 }), hop).status).toBe(200);
    expect(registrar.handleRegister(register('alice', [contact('alice', 6003)]), hop).status).toBe(200);
    expect(registrar.size).toBe(2);
  });

  it('refuses new users once the registrar is full, counting exactly through removals, "*" and expiry', () => {
    const registrar = new Registrar({ maxBindings: 3, minExpires: 1 });
    for (const user of ['u1', 'u2', 'u3']) expect(registrar.handleRegister(register(user, [contact(user, 7000)], { expires: user === 'u3' ? 1 : 600 }), hop).status).toBe(200);
    expect(registrar.size).toBe(3);
    expect(registrar.handleRegister(register('u4', [contact('u4', 7000)]), hop).status).toBe(503);
    expect(registrar.lookup('u4')).toEqual([]);

    // "*" with Expires: 0 frees u1's binding.
    expect(registrar.handleRegister(register('u1', ['*'], { expires: 0 }), hop).status).toBe(200);
    expect(registrar.size).toBe(2);
    expect(registrar.handleRegister(register('u4', [contact('u4', 7000)]), hop).status).toBe(200);
    expect(registrar.size).toBe(3);

    // u3's binding expires (the clock moved on by 1.1 s); nobody looked it up, and a new user still finds the room it left.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 1100 });
    try {
      expect(registrar.handleRegister(register('u5', [contact('u5', 7000)]), hop).status).toBe(200);
    } finally {
      vi.useRealTimers();
    }
    expect(registrar.size).toBe(3);
    expect(registrar.all().map((b) => b.user).sort()).toEqual(['u2', 'u4', 'u5']);
  });

  it('refuses a new user beyond maxUsers with 503 while the users it has add contacts and refresh, and counts each refusal by reason', () => {
    const registrar = new Registrar({ maxUsers: 2, maxContactsPerUser: 2 });
    expect(registrar.handleRegister(register('v1', [contact('v1', 7100)]), hop).status).toBe(200);
    expect(registrar.handleRegister(register('v2', [contact('v2', 7100)]), hop).status).toBe(200);
    const refused = registrar.handleRegister(register('v3', [contact('v3', 7100)]), hop);
    expect(refused.status).toBe(503);
    expect(refused.get('retry-after')).toBe('60');
    expect(registrar.handleRegister(register('v1', [contact('v1', 7101)]), hop).status).toBe(200);
    expect(registrar.handleRegister(register('v1', [contact('v1', 7102)]), hop).status).toBe(503);
    expect(registrar.handleRegister(register('v2', [contact('v2', 7100)]), hop).status).toBe(200);
    expect(registrar).toMatchObject({ users: 2, size: 3, refused: { USERS: 1, CONTACTS_PER_USER: 1 }, limits: { maxUsers: 2, maxContactsPerUser: 2, maxBindings: 10_000 } });

    // v2 leaves: a new user fits again.
    expect(registrar.handleRegister(register('v2', ['*'], { expires: 0 }), hop).status).toBe(200);
    expect(registrar.handleRegister(register('v3', [contact('v3', 7100)]), hop).status).toBe(200);
    expect(registrar.users).toBe(2);
  });

  it('tells until when a flow carries a live registration (the lab keeps such a flow open though silent)', () => {
    const registrar = new Registrar();
    const flow: Hop = { transport: 'tcp', remote: { address: '127.0.0.1', port: 40000 }, connectionId: 'tcp-77' };
    expect(registrar.flowExpiry('tcp-77')).toBeUndefined();
    const before = Date.now();
    registrar.handleRegister(register('w1', [contact('w1', 7200)], { expires: 300 }), flow);
    registrar.handleRegister(register('w2', [contact('w2', 7200)], { expires: 900 }), flow);
    const until = registrar.flowExpiry('tcp-77')!;
    expect(until).toBeGreaterThanOrEqual(before + 900_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 900_000);
    expect(registrar.flowExpiry('tcp-78')).toBeUndefined();
    registrar.handleRegister(register('w2', [contact('w2', 7200)], { expires: 0 }), flow);
    expect(registrar.flowExpiry('tcp-77')).toBeLessThanOrEqual(Date.now() + 300_000);
  });

  it('keeps at most 200 characters of a User-Agent', () => {
    const registrar = new Registrar();
    registrar.handleRegister(register('bob', [contact('bob', 6100)], { userAgent: `agent ${'x'.repeat(8000)}` }), hop);
    const [binding] = registrar.lookup('bob');
    expect(binding!.contact.uri.port).toBe(6100);
    expect(binding!.userAgent).toMatch(/^agent x+$/);
    expect(binding!.userAgent!.length).toBe(200);
  });
});

describe('Registrar lookups by flow and by Contact URI (one lookup per message, however many phones)', () => {
  const sameHop = (a: Hop, b: Hop): boolean => a.transport === b.transport && a.remote.address === b.remote.address && a.remote.port === b.remote.port;

  it('answers like a scan of every live binding through registrations, refreshes, removals, expiry and closed flows', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    try {
      const random = rng(23);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
      const registrar = new Registrar({ minExpires: 1 });
      const users = Array.from({ length: 12 }, (_, i) => `u${i}`);
      const ports = [6000, 6001, 6002, 6003];
      const flows: Hop[] = [
        { transport: 'udp', remote: { address: '127.0.0.1', port: 6000 } },
        { transport: 'udp', remote: { address: '127.0.0.9', port: 6001 } }, // a NAT: the Contact names another address
        ...[1, 2].map((n): Hop => ({ transport: 'tcp', remote: { address: '127.0.0.1', port: 41000 + n }, connectionId: `tcp-${n}` })),
      ];
      const asked: Hop[] = [...flows, ...ports.flatMap((port) => (['udp', 'tcp'] as const).map((transport): Hop => ({ transport, remote: { address: '127.0.0.1', port } })))];
      let found = 0;
      for (let step = 0; step < 600; step++) {
        const roll = random();
        if (roll < 0.7) {
          const user = pick(users);
          const port = pick(ports);
          // a shared device: several users may register the very same Contact
          const uri = random() < 0.3 ? `<sip:device@127.0.0.1:${port}>` : contact(user, port);
          registrar.handleRegister(register(user, [uri], { expires: pick([0, 1, 2, 600]), callId: `reg-${user}-${step}` }), pick(flows));
          // now and then a REGISTER that fails part-way (an old CSeq for a contact it holds, after a new one): no change
          const held = registrar.lookup(user)[0];
          if (held && random() < 0.2) registrar.handleRegister(register(user, [contact(user, 6999), `<${formatSipUri(held.contact.uri)}>`], { callId: held.callId, cseq: held.cseq }), pick(flows));
        } else if (roll < 0.9) vi.advanceTimersByTime(700);
        else registrar.dropFlow(pick(['tcp-1', 'tcp-2']));
        const live = registrar.all(); // expires, then lists every live binding in registrar order
        for (const hop of asked) {
          const expected = live.find((b) => sameHop(b.hop, hop));
          expect(registrar.bindingAt(hop)).toBe(expected);
          if (expected) found++;
        }
        for (const port of ports) {
          for (const uri of [`sip:device@127.0.0.1:${port}`, `sip:${pick(users)}@127.0.0.1:${port}`]) {
            const parsed = parseSipUri(uri);
            expect(registrar.bindingForUri(parsed)).toBe(live.find((b) => b.key === contactKey(parsed)));
          }
        }
      }
      expect(found).toBeGreaterThan(300); // the walk did find bindings, not only empty answers
    } finally {
      vi.useRealTimers();
    }
  });

  it("changes nothing when one of a REGISTER's contacts fails (RFC 3261 §10.3 step 7: all or none)", () => {
    const registrar = new Registrar();
    const events: string[] = [];
    registrar.onEvent((e) => events.push(`${e.type} ${e.binding.contact.uri.port}`));
    expect(registrar.handleRegister(register('dave', [contact('dave', 6301)], { callId: 'd1', cseq: 5 }), hop).status).toBe(200);
    expect(registrar.handleRegister(register('dave', [contact('dave', 6302)], { callId: 'd2', cseq: 1 }), hop).status).toBe(200);
    // adds 6303 and removes 6302, then finds an old CSeq for 6301
    const failed = register('dave', [contact('dave', 6303), `${contact('dave', 6302)};expires=0`, contact('dave', 6301)], { callId: 'd1', cseq: 5 });
    expect(registrar.handleRegister(failed, hop).status).toBe(500);
    expect(registrar.lookup('dave').map((b) => b.contact.uri.port).sort()).toEqual([6301, 6302]);
    expect(registrar.size).toBe(2);
    const at = (port: number): Hop => ({ transport: 'udp', remote: { address: '127.0.0.1', port } });
    expect(registrar.bindingAt(at(6303))).toBeUndefined();
    expect(registrar.bindingAt(at(6302))?.user).toBe('dave');
    expect(registrar.bindingForUri(parseSipUri('sip:dave@127.0.0.1:6303'))).toBeUndefined();
    expect(events).toEqual(['registered 6301', 'registered 6302']);
  });

  it('takes a contact named twice in one REGISTER, the later one winning, and tells listeners only of what is stored', () => {
    const registrar = new Registrar();
    const seen: Array<{ event: string; size: number }> = [];
    registrar.onEvent((e) => seen.push({ event: `${e.type} ${e.binding.contact.uri.port}`, size: registrar.size }));
    const twice = register('erin', [contact('erin', 6401), `${contact('erin', 6401)};expires=0`, contact('erin', 6402)], { callId: 'e1', cseq: 3 });
    expect(registrar.handleRegister(twice, hop).status).toBe(200);
    expect(registrar.lookup('erin').map((b) => b.contact.uri.port)).toEqual([6402]);
    expect(registrar.handleRegister(register('erin', ['*'], { expires: 0, callId: 'e1', cseq: 4 }), hop).status).toBe(200);
    // every event comes once the registrar holds what it tells of
    expect(seen).toEqual([
      { event: 'registered 6401', size: 1 },
      { event: 'removed 6401', size: 1 },
      { event: 'registered 6402', size: 1 },
      { event: 'removed 6402', size: 0 },
    ]);
  });

  it('does not count an expired binding as a user agent at its flow, even before anything swept it', () => {
    vi.useFakeTimers({ now: 2_000_000 });
    try {
      const registrar = new Registrar({ minExpires: 1 });
      registrar.handleRegister(register('carol', [contact('carol', 6200)], { expires: 1 }), hop);
      const at: Hop = { transport: 'udp', remote: { address: '127.0.0.1', port: 6200 } };
      expect(registrar.bindingAt(at)?.user).toBe('carol');
      vi.advanceTimersByTime(1001);
      expect(registrar.bindingAt(at)).toBeUndefined();
      expect(registrar.size).toBe(1); // not swept yet: the lookup itself judged it
    } finally {
      vi.useRealTimers();
    }
  });
});
