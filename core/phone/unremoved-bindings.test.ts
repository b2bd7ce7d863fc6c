import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OwnershipJournal } from '../address/address-journal.js';
import { SipLabServer } from '../../lab/sip-server/sip-lab-server.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { until } from '../../test/support/until.js';
import type { AccountConfig, CallSnapshot, PhoneEvent } from '../api/phone-types.js';
import { createResponse, type SipRequest } from '../sip/message/index.js';
import { defaultMediaProvider } from './default-media.js';
import { Phone } from './phone.js';

const timers = { t1: 100, t2: 400 };

/** A REGISTER that asks to remove its Contact (RFC 3261 §10.2.2). */
const isRemoval = (request: SipRequest): boolean => request.method === 'REGISTER' && /expires=0\b/i.test(`${request.get('contact')};expires=${request.get('expires')}`);
/** A Contact as `sip:user@host:port`, without its brackets and parameters. */
const bare = (contact: string): string => contact.replace(/^.*</, '').replace(/>.*$/, '').split(';')[0]!;
const contactOf = (request: SipRequest): string => bare(request.get('contact') ?? '');

/**
 * SPEC B while the phone runs: a one-time registration the registrar would not remove (500) is reported at once as
 * possibly left at the server and journalled for the next start, which erases it; nothing else names it meanwhile.
 */
describe('unregistrations the registrar refused', () => {
  const network = new MemoryNetwork();
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  }, 30_000);

  /** A registrar that answers 500 to the removals `refuse` picks, and the removals it was sent (one per transaction). */
  async function refusingRegistrar(refuse: (contact: string) => boolean): Promise<{ server: SipLabServer; removals: string[] }> {
    const removals: string[] = [];
    const seen = new Set<string>();
    const server = await SipLabServer.start({
      timers,
      sockets: network,
      udp: 0,
      tcp: undefined,
      ws: undefined,
      hooks: {
        onRequest: (request) => {
          if (!isRemoval(request)) return undefined;
          const transaction = `${request.get('call-id')} ${request.get('cseq')}`;
          if (!seen.has(transaction)) removals.push(contactOf(request));
          seen.add(transaction);
          return refuse(contactOf(request)) ? createResponse(request, 500, 'Server Internal Error', 'refused') : undefined;
        },
      },
    });
    cleanup.push(() => server.stop());
    return { server, removals };
  }

  function phone(server: SipLabServer, account: Partial<AccountConfig> & { id: string; user: string }, options: { dataDir?: string } = {}): { phone: Phone; events: PhoneEvent[] } {
    const events: PhoneEvent[] = [];
    const p = new Phone({
      accounts: [{ server: `sip:127.0.0.1:${server.ports.udp};transport=udp`, transport: 'udp', domain: '127.0.0.1', answer: { kind: 'auto' }, ...account }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers,
      sockets: network,
      ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
    });
    p.subscribe((e) => events.push(e));
    cleanup.push(() => p.shutdown());
    return { phone: p, events };
  }

  function tempDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-owed-'));
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  const bindingsIn = (dataDir: string): string[] => {
    const journal = OwnershipJournal.open(dataDir);
    const contacts = journal.outstanding().flatMap((e) => (e.thing.kind === 'binding' ? [bare(e.thing.contact)] : []));
    journal.close();
    return contacts;
  };
  const held = (server: SipLabServer, contact: string): boolean => server.snapshot().bindings.some((b) => bare(b.contact) === contact);
  const pending = (events: PhoneEvent[]): string[] => events.flatMap((e) => (e.type === 'error' && e.code === 'CLEANUP_PENDING' ? [e.message] : []));
  const last = (events: PhoneEvent[], id: string): CallSnapshot | undefined =>
    events.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === id).at(-1)?.call;

  it('after a call, a de-REGISTER answered 500 is reported at once, nothing else names that Contact while the phone runs, and the next start erases it', async () => {
    let refusals = 1;
    const { server, removals } = await refusingRegistrar(() => refusals-- > 0);
    const dataDir = tempDir();
    const alice = phone(server, { id: 'alice', user: 'alice', address: { mode: 'temporary', source: 'loopback' } }, { dataDir });
    const bob = phone(server, { id: 'bob', user: 'bob' });
    await alice.phone.register();
    await bob.phone.register();
    const placed = await alice.phone.call({ target: 'bob' });
    await until(() => last(alice.events, placed.id)?.state === 'established');
    await alice.phone.hangup(placed.id);
    await until(() => removals.length === 1);
    const [sending] = removals;
    expect(sending).toContain(`@${placed.localAddress}:`);
    await until(() => pending(alice.events).length === 1);
    expect(pending(alice.events)[0]).toMatch(new RegExp(`${sending!.replace(/[.]/g, '\\.')}.*may be left at the server until it expires there .*answered 500.*the next start removes it`));
    // its address went with its identity; no REGISTER from any other address of alice's names that Contact
    await until(() => alice.events.some((e) => e.type === 'address' && e.address.address === placed.localAddress && e.address.state === 'released'));
    await new Promise((resolve) => setTimeout(resolve, 20 * timers.t1));
    expect(removals).toEqual([sending]);
    expect(held(server, sending!)).toBe(true);
    await alice.phone.shutdown();
    expect(bindingsIn(dataDir)).toContain(sending);
    // the next start (the registrar takes removals now) erases it before it registers
    const again = phone(server, { id: 'alice', user: 'alice', address: { mode: 'temporary', source: 'loopback' } }, { dataDir });
    await again.phone.register();
    expect(held(server, sending!)).toBe(false);
    expect(removals.filter((r) => r === sending)).toHaveLength(2);
    await again.phone.shutdown();
    expect(bindingsIn(dataDir)).not.toContain(sending);
  });

  it('at shutdown, a de-REGISTER answered 500 is reported and journalled, and the shutdown does not wait on it', async () => {
    const { server, removals } = await refusingRegistrar(() => true);
    const dataDir = tempDir();
    const alice = phone(server, { id: 'alice', user: 'alice', address: { mode: 'temporary', source: 'loopback' } }, { dataDir });
    await alice.phone.register();
    const [binding] = server.snapshot().bindings.filter((b) => b.user === 'alice');
    const started = Date.now();
    await alice.phone.shutdown();
    expect(Date.now() - started).toBeLessThan(8 * timers.t1 + 1000);
    expect(removals).toHaveLength(1);
    expect(pending(alice.events)).toHaveLength(1);
    expect(bindingsIn(dataDir)).toEqual([bare(binding!.contact)]);
  });
});
