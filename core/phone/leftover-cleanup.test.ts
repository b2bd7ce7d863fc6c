import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { journalFileName, OwnershipJournal } from '../address/address-journal.js';
import { Lab } from '../../lab/lab.js';
import { Registrar } from '../../lab/sip-server/registrar.js';
import { SipLabServer } from '../../lab/sip-server/sip-lab-server.js';
import { until } from '../../test/support/until.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import type { AccountConfig, PhoneEvent } from '../api/phone-types.js';
import { createResponse, parseSipMessage } from '../sip/message/index.js';
import type { SipTapEntry } from '../sip/transport/message-tap.js';
import { osSockets, type SipSockets } from '../sip/transport/sip-sockets.js';
import { defaultMediaProvider } from './default-media.js';
import { Phone } from './phone.js';

const timers = { t1: 100, t2: 400 };
const hours = 3600_000;

/**
 * SPEC B after a crash: every registration the dead run may have left alive at the registrar is erased at the next
 * start (REGISTER Expires: 0, RFC 3261 §10.2.2); only one that has certainly expired there is struck without it.
 */
describe('registrations a crashed run left behind (SPEC B)', () => {
  const network = new MemoryNetwork();
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  }, 30_000);

  function tempDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-leftover-'));
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  /** Alice on one-time loopback addresses, at the lab `home` or at a registrar given as `{ server, domain }`. */
  function phone(home: Lab | { server: string; domain: string }, dataDir: string, account: Partial<AccountConfig> = {}, sockets: SipSockets = network): { phone: Phone; events: PhoneEvent[] } {
    const events: PhoneEvent[] = [];
    const at = home instanceof Lab ? { server: home.servers.udp!, domain: home.domain } : home;
    const p = new Phone({
      accounts: [{ id: 'alice', user: 'alice', ...at, transport: 'udp', address: { mode: 'temporary', source: 'loopback' }, ...account }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers,
      sockets,
      dataDir,
    });
    p.subscribe((e) => events.push(e));
    cleanup.push(() => p.shutdown());
    return { phone: p, events };
  }

  /**
   * The crash: the run's journal as it is on disk at this moment, in a data dir of its own, with every time in it moved
   * `byMs` back (`fields`: which ones). The crashed phone itself goes on (it is shut down after the test) so that its
   * binding stays at the registrar until the next start removes it.
   */
  function crashImage(dataDir: string, byMs: number, fields: ReadonlyArray<'at' | 'until'>): string {
    const image = tempDir();
    const lines = fs.readFileSync(path.join(dataDir, journalFileName), 'utf8').trim().split('\n');
    const aged = lines.map((raw) => {
      const line = JSON.parse(raw) as Record<string, unknown>;
      for (const field of fields) if (typeof line[field] === 'number') line[field] = (line[field] as number) - byMs;
      return JSON.stringify(line);
    });
    fs.writeFileSync(path.join(image, journalFileName), `${aged.join('\n')}\n`, { mode: 0o600 });
    return image;
  }

  const contactsOf = (home: Lab, user: string): string[] => home.sip.snapshot().bindings.filter((b) => b.user === user).map((b) => b.contact);
  const removalsOf = (seen: SipTapEntry[], contact: string): number => removalSourcesOf(seen, contact).length;

  /** The addresses the REGISTERs erasing `contact` came from, as the registrar saw them. */
  const removalSourcesOf = (seen: SipTapEntry[], contact: string): string[] =>
    seen.filter((e) => e.dir === 'in' && isRemovalOf(e.raw, contact)).map((e) => e.remote.replace(/:\d+$/, ''));
  /** A lab whose messages are kept (`seen`), and a run registered there (registerExpires 3600) that will crash: its Contact. */
  async function runToCrash(): Promise<{ home: Lab; seen: SipTapEntry[]; dataDir: string; dead: string }> {
    const seen: SipTapEntry[] = [];
    const home = await Lab.start({ timers, sockets: network, tap: (e) => seen.push(e) });
    cleanup.push(() => home.stop());
    const dataDir = tempDir();
    await phone(home, dataDir, { registerExpires: 3600 }).phone.register();
    const [dead] = contactsOf(home, 'alice');
    expect(dead).toBeDefined();
    return { home, seen, dataDir, dead: dead! };
  }

  it('a binding made three hours ago and kept alive by its refreshes (registerExpires 3600) is erased at the next start', async () => {
    const { home, seen, dataDir, dead } = await runToCrash();
    // made three hours ago; its last refresh (here: the REGISTER itself) is recent, so the registrar still holds it
    const image = crashImage(dataDir, 3 * hours, ['at']);

    const restarted = phone(home, image, { registerExpires: 3600 });
    await restarted.phone.register();
    expect(contactsOf(home, 'alice')).not.toContain(dead);
    expect(removalsOf(seen, dead)).toBe(1);
    expect(restarted.events.filter((e) => e.type === 'error')).toEqual([]);
  });

  it('they are erased from a fresh one-time address, given up afterwards: never from the host\'s, nor from one the phone goes on using', async () => {
    const { home, seen, dataDir, dead } = await runToCrash();
    const image = crashImage(dataDir, 3 * hours, ['at']);

    const restarted = phone(home, image, { registerExpires: 3600 });
    await restarted.phone.register();
    // the REGISTER names the dead Contact: whichever address sends it is tied to it at the registrar and on the path
    const [sender, ...more] = removalSourcesOf(seen, dead);
    expect(more).toEqual([]);
    expect(sender).not.toBe('127.0.0.1'); // the host's own address (the OS's source toward the lab)
    expect(dead).not.toContain(`@${sender}:`);
    const [receiving] = contactsOf(home, 'alice');
    expect(receiving).not.toContain(`@${sender}:`);
    const states = restarted.events.flatMap((e) => (e.type === 'address' && e.address.address === sender ? [e.address.state] : []));
    expect(states).toEqual(['in-use', 'released']);
    expect(restarted.events.filter((e) => e.type === 'error')).toEqual([]);
  });

  it('over TLS, as the account checks its registrar (a throwaway identity without its TLS settings could not)', async () => {
    const seen: SipTapEntry[] = [];
    const certificates = tempDir();
    const home = await Lab.start({ timers, udp: 0, tls: { dataDir: certificates }, tap: (e) => seen.push(e) }); // real sockets
    cleanup.push(() => home.stop());
    const overTls = (dataDir: string): ReturnType<typeof phone> =>
      phone({ server: home.servers.tls!, domain: home.domain }, dataDir, { transport: 'tls', tls: { fingerprint: home.certificate!.fingerprint }, registerExpires: 3600 }, osSockets);
    const dataDir = tempDir();
    await overTls(dataDir).phone.register();
    const [dead] = contactsOf(home, 'alice');
    const image = crashImage(dataDir, 3 * hours, ['at']);

    const restarted = overTls(image);
    await restarted.phone.register();
    expect(contactsOf(home, 'alice')).not.toContain(dead);
    const [sender] = removalSourcesOf(seen, dead!);
    expect(sender).not.toBe('127.0.0.1');
    expect(restarted.events.filter((e) => e.type === 'error')).toEqual([]);
  });

  /** A registrar that hears every REGISTER (and from where) and answers none. */
  async function silentRegistrar(): Promise<{ port: number; heard: string[] }> {
    const socket = await network.bindUdp({ address: '127.0.0.1', port: 0 });
    const heard: string[] = [];
    socket.onMessage = (data, from) => {
      if (data.toString('latin1', 0, 9) === 'REGISTER ') heard.push(from.address);
    };
    cleanup.push(() => socket.close());
    return { port: socket.local.port, heard };
  }

  /** The crash image with every binding moved to another registrar (the account's backup, say). */
  function movedTo(image: string, port: number): void {
    const file = path.join(image, journalFileName);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((raw) => JSON.parse(raw) as { thing?: { kind: string; server: { port: number } } });
    for (const line of lines) if (line.thing?.kind === 'binding') line.thing.server.port = port;
    fs.writeFileSync(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`, { mode: 0o600 });
  }

  const bindingsIn = (image: string): string[] => {
    const journal = OwnershipJournal.open(image);
    const left = journal.outstanding().flatMap((e) => (e.thing.kind === 'binding' ? [e.thing.contact] : []));
    journal.close();
    return left;
  };

  it('a registrar that stays silent holds the start up for 8·T1, not Timer F: the binding is kept, the address given back', async () => {
    const { home, dataDir, dead } = await runToCrash();
    const image = crashImage(dataDir, 3 * hours, ['at']);
    const silent = await silentRegistrar();
    movedTo(image, silent.port); // made at a server that is now down

    const restarted = phone(home, image, { registerExpires: 3600 });
    await restarted.phone.register(); // sip.js's own Timer F would be 32 s: the test's 5 s would run out
    expect(silent.heard.length).toBeGreaterThan(0);
    expect(silent.heard).not.toContain('127.0.0.1'); // from a one-time address of the account, at the other server too
    const sender = silent.heard[0]!;
    expect(restarted.events.flatMap((e) => (e.type === 'address' && e.address.address === sender ? [e.address.state] : []))).toEqual(['in-use', 'released']);
    expect(restarted.events.some((e) => e.type === 'error' && e.code === 'CLEANUP_PENDING' && e.message.includes(dead))).toBe(true);
    await restarted.phone.shutdown();
    expect(bindingsIn(image).filter((contact) => contact.startsWith(dead))).toHaveLength(1); // the journal adds ;transport=udp
  });

  it('bindings at two servers are removed one server after the other, from one one-time address at a time', async () => {
    const { home, seen, dataDir, dead } = await runToCrash();
    const image = crashImage(dataDir, 3 * hours, ['at']);
    const silent = await silentRegistrar();
    // the same binding also made at a second server (a backup the account once failed over to)
    const file = path.join(image, journalFileName);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((raw) => JSON.parse(raw) as { op: string; id?: number; thing?: { kind: string; server: { port: number } } });
    const binding = lines.find((l) => l.op === 'own' && l.thing?.kind === 'binding')!;
    const copy = { ...binding, id: Math.max(...lines.map((l) => l.id ?? 0)) + 1, thing: { ...binding.thing!, server: { ...binding.thing!.server, port: silent.port } } };
    fs.appendFileSync(file, `${JSON.stringify(copy)}\n`);

    const restarted = phone(home, image, { registerExpires: 3600 });
    await restarted.phone.register();
    expect(removalsOf(seen, dead)).toBe(1);
    expect(silent.heard.length).toBeGreaterThan(0);
    // each cleanup address is given back before the next is taken (Fig. 28: one address at a time)
    const cleanupAddresses = new Set([...silent.heard, ...removalSourcesOf(seen, dead)]);
    expect(cleanupAddresses.size).toBe(2);
    const changes = restarted.events.flatMap((e) => (e.type === 'address' && cleanupAddresses.has(e.address.address) ? [e.address.state] : []));
    expect(changes).toEqual(['in-use', 'released', 'in-use', 'released']);
  });

  it('a shutdown during the removal stops it: no REGISTER after, the address given back, the binding kept for the next start', async () => {
    const { home, dataDir, dead } = await runToCrash();
    const image = crashImage(dataDir, 3 * hours, ['at']);
    const silent = await silentRegistrar();
    movedTo(image, silent.port);

    const restarted = phone(home, image, { registerExpires: 3600 });
    const registering = restarted.phone.register().catch((error: Error) => error);
    await until(() => silent.heard.length > 0 || undefined);
    await restarted.phone.shutdown();
    const heardAtShutdown = silent.heard.length;
    await registering;
    await new Promise((resolve) => setTimeout(resolve, 10 * timers.t1)); // Timer E would have resent it by now
    expect(silent.heard.length).toBe(heardAtShutdown);
    expect(restarted.events.flatMap((e) => (e.type === 'address' && e.address.address === silent.heard[0] ? [e.address.state] : []))).toEqual(['in-use', 'released']);
    expect(bindingsIn(image).filter((contact) => contact.startsWith(dead))).toHaveLength(1); // the journal adds ;transport=udp
  });

  it('an account no longer on one-time addresses erases them from its own address', async () => {
    const { home, seen, dataDir, dead } = await runToCrash();
    const image = crashImage(dataDir, 3 * hours, ['at']);

    const restarted = phone(home, image, { registerExpires: 3600, address: { mode: 'fixed' } });
    await restarted.phone.register();
    expect(removalSourcesOf(seen, dead)).toEqual(['127.0.0.1']);
    expect(contactsOf(home, 'alice')).not.toContain(dead);
  });

  it('a binding certainly expired at the registrar (its last REGISTER asked for less than the time since) is struck without a REGISTER', async () => {
    const { home, seen, dataDir, dead } = await runToCrash();
    // made, and last refreshed, two hours ago: the registrar let it go an hour ago (here the lab itself is not aged)
    const image = crashImage(dataDir, 2 * hours, ['at', 'until']);

    const restarted = phone(home, image, { registerExpires: 3600 });
    await restarted.phone.register();
    expect(removalsOf(seen, dead)).toBe(0);
    const journal = OwnershipJournal.open(image);
    const left = journal.outstanding().flatMap((e) => (e.thing.kind === 'binding' ? [e.thing.contact] : []));
    journal.close();
    expect(left).not.toContain(dead);
  });

  it('every refresh sip.js sends moves the journalled lifetime of the binding on', async () => {
    // a registrar that grants one second, whatever is asked for: sip.js refreshes every 0.99 s (RFC 3261 §10.2.4)
    const server = await SipLabServer.start({ timers, sockets: network, udp: 0, tcp: undefined, ws: undefined, registrar: new Registrar({ maxExpires: 1 }) });
    cleanup.push(() => server.stop());
    const dataDir = tempDir();
    const { phone: alice, events } = phone({ server: `sip:127.0.0.1:${server.ports.udp};transport=udp`, domain: '127.0.0.1' }, dataDir, { registerExpires: 30 });
    const lifetimes = (): number[] =>
      fs
        .readFileSync(path.join(dataDir, journalFileName), 'utf8')
        .trim()
        .split('\n')
        .map((raw) => JSON.parse(raw) as { op: string; until?: number })
        .flatMap((line) => (line.op === 'until' ? [line.until!] : []));
    const registered = Date.now();
    await alice.register();
    expect(lifetimes()).toHaveLength(1);
    // asked for 30 s; the registrar may take the REGISTER as late as its last retransmission (64·T1)
    expect(lifetimes()[0]).toBeGreaterThanOrEqual(registered + 30_000);
    expect(lifetimes()[0]).toBeLessThanOrEqual(Date.now() + 30_000 + 64 * timers.t1);
    await until(() => lifetimes().length >= 3, 5000);
    const [first, second, third] = lifetimes();
    expect(second).toBeGreaterThan(first!);
    expect(third).toBeGreaterThan(second!);
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
  });

  it('a registrar that grants longer than asked (as Kamailio raises one below its min_expires) is believed', async () => {
    // every REGISTER answered 200 with the Contact bound for two hours, whatever it asked for
    const server = await SipLabServer.start({
      timers,
      sockets: network,
      udp: 0,
      tcp: undefined,
      ws: undefined,
      hooks: {
        onRequest: (request) => {
          if (request.method !== 'REGISTER') return undefined;
          const response = createResponse(request, 200, undefined, 'granted');
          response.set('contact', `${(request.get('contact') ?? '').replace(/;\s*expires=\d+/i, '')};expires=7200`);
          return response;
        },
      },
    });
    cleanup.push(() => server.stop());
    const dataDir = tempDir();
    const { phone: alice } = phone({ server: `sip:127.0.0.1:${server.ports.udp};transport=udp`, domain: '127.0.0.1' }, dataDir, { registerExpires: 30 });
    await alice.register();
    const journal = OwnershipJournal.open(dataDir);
    const [binding] = journal.outstanding().filter((e) => e.thing.kind === 'binding');
    journal.close();
    expect(binding?.until).toBeGreaterThan(Date.now() + 7100_000);
  });
});

/** A REGISTER with Expires: 0 for `contact` (`<sip:…>` as the registrar lists it). */
function isRemovalOf(raw: string, contact: string): boolean {
  const message = parseSipMessage(raw);
  if (message.kind !== 'request' || message.method !== 'REGISTER') return false;
  const named = message.get('contact') ?? '';
  return named.includes(contact.replace(/^<|>.*$/g, '')) && /expires=0\b/i.test(`${named};expires=${message.get('expires')}`);
}
