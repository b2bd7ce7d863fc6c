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
import type { SipTimerValues } from '../sip/transport/udp-retransmitter.js';
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
 * possibly left at the server, erased again with backoff, once more at shutdown, and journalled until it is gone.
 */
describe('unregistrations the registrar refused', () => {
  const network = new MemoryNetwork();
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  }, 30_000);

  /** A registrar that answers 500 to the removals `refuse` picks, and the removals it was sent (one per transaction). */
  async function refusingRegistrar(refuse: (contact: string) => boolean, t: SipTimerValues = timers): Promise<{ server: SipLabServer; removals: string[]; times: number[]; sentBy: string[] }> {
    const removals: string[] = [];
    const times: number[] = [];
    /** The host each removal says it was sent from (its top Via), beside the Contact it removes. */
    const sentBy: string[] = [];
    const seen = new Set<string>();
    const server = await SipLabServer.start({
      timers: t,
      sockets: network,
      udp: 0,
      tcp: undefined,
      ws: undefined,
      hooks: {
        onRequest: (request) => {
          if (!isRemoval(request)) return undefined;
          const transaction = `${request.get('call-id')} ${request.get('cseq')}`;
          if (!seen.has(transaction)) {
            removals.push(contactOf(request));
            times.push(Date.now());
            sentBy.push(request.topVia!.host);
          }
          seen.add(transaction);
          return refuse(contactOf(request)) ? createResponse(request, 500, 'Server Internal Error', 'refused') : undefined;
        },
      },
    });
    cleanup.push(() => server.stop());
    return { server, removals, times, sentBy };
  }

  function phone(server: SipLabServer, account: Partial<AccountConfig> & { id: string; user: string }, options: { dataDir?: string; timers?: SipTimerValues } = {}): { phone: Phone; events: PhoneEvent[] } {
    const events: PhoneEvent[] = [];
    const p = new Phone({
      accounts: [{ server: `sip:127.0.0.1:${server.ports.udp};transport=udp`, transport: 'udp', domain: '127.0.0.1', answer: { kind: 'auto' }, ...account }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers: options.timers ?? timers,
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

  it('after a call, a de-REGISTER answered 500 is reported, tried again while the phone runs, and the call\'s binding goes', async () => {
    let refusals = 1;
    const { server, removals, sentBy } = await refusingRegistrar(() => refusals-- > 0);
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
    expect(pending(alice.events)[0]).toMatch(new RegExp(`${sending!.replace(/[.]/g, '\\.')}.*may be left at the server.*500`));
    // the retry, 8·T1 later, from the call's own identity on its one-time address: no other address of alice's ever
    // names that Contact
    await until(() => !held(server, sending!) && removals.length === 2, 5000);
    expect(sentBy).toEqual([placed.localAddress, placed.localAddress]);
    // struck once the phone has the registrar's 200, and then the identity and its address go
    await until(() => alice.events.some((e) => e.type === 'address' && e.address.address === placed.localAddress && e.address.state === 'released'));
    expect(bindingsIn(dataDir)).not.toContain(sending);
    expect(pending(alice.events)).toHaveLength(1); // nothing more to say: it is gone
  });

  it('at shutdown, a de-REGISTER answered 500 is tried once more, and nothing is left at the registrar or in the journal', async () => {
    let refusals = 1;
    const { server, removals } = await refusingRegistrar(() => refusals-- > 0);
    const dataDir = tempDir();
    const alice = phone(server, { id: 'alice', user: 'alice', address: { mode: 'temporary', source: 'loopback' } }, { dataDir });
    await alice.phone.register();
    expect(server.snapshot().bindings.filter((b) => b.user === 'alice')).toHaveLength(1);
    await alice.phone.shutdown();
    expect(removals).toHaveLength(2);
    expect(server.snapshot().bindings.filter((b) => b.user === 'alice')).toEqual([]);
    expect(bindingsIn(dataDir)).toEqual([]);
    expect(pending(alice.events)).toHaveLength(1);
  });

  it('a registrar that keeps refusing: a bounded number of tries with backoff from the one-time address, then the user is told it is left, the address goes and the journal keeps it', async () => {
    const fast = { t1: 20, t2: 80 }; // 8·T1 = 160 ms: tries after 160, 320, 640 and 1280 ms
    const { server, removals, times, sentBy } = await refusingRegistrar(() => true, fast);
    const dataDir = tempDir();
    const alice = phone(server, { id: 'alice', user: 'alice', address: { mode: 'temporary', source: 'loopback' } }, { dataDir, timers: fast });
    await alice.phone.register();
    await alice.phone.unregister();
    const [contact] = removals;
    await until(() => removals.length === 5, 10_000); // the first and four more
    await until(() => pending(alice.events).length === 2);
    const started = Date.now();
    for (let i = 1; i < 5; i++) expect(removals[i]).toBe(contact);
    for (let i = 1; i < 5; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(160 * 2 ** (i - 1) - 10);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(removals).toHaveLength(5); // given up: no busy loop
    expect(pending(alice.events)[1]).toMatch(/is left at the server until it expires there .*5 removals failed \(last: answered 500\); the next start tries again/);
    expect(held(server, contact!)).toBe(true);
    expect(bindingsIn(dataDir)).toContain(contact);
    const oneTime = /@\[?([^\]@]+?)\]?:\d+$/.exec(contact!)![1]!;
    expect(new Set(sentBy)).toEqual(new Set([oneTime])); // every try from the one-time address itself
    // the tries are over: the identity and its address went
    expect(alice.events.some((e) => e.type === 'address' && e.address.address === oneTime && e.address.state === 'released')).toBe(true);
    await alice.phone.shutdown();
    expect(Date.now() - started).toBeLessThan(1000 + 2000);
    expect(removals).toHaveLength(5); // none at shutdown: its address is gone, and no other address of ours names it
    expect(pending(alice.events)).toHaveLength(2); // told once that it is left
    expect(bindingsIn(dataDir)).toContain(contact); // the next start removes it (or strikes it once it has expired)
  });

  it('a shutdown while a try waits on a silent registrar ends within its grace, not at Timer F', async () => {
    const slow = { t1: 50, t2: 200 }; // Timer F 3.2 s; the shutdown's grace 8·T1 = 400 ms
    let silent = false;
    const removals: number[] = [];
    const server = await SipLabServer.start({
      timers: slow,
      sockets: network,
      udp: 0,
      tcp: undefined,
      ws: undefined,
      hooks: {
        onRequest: (request) => {
          if (!isRemoval(request)) return undefined;
          removals.push(Date.now());
          // refused once, then never answered: the registrar went silent
          if (silent) return createResponse(request, 100, 'Trying');
          silent = true;
          return createResponse(request, 500, 'Server Internal Error', 'refused');
        },
      },
    });
    cleanup.push(() => server.stop());
    const alice = phone(server, { id: 'alice', user: 'alice', address: { mode: 'temporary', source: 'loopback' } }, { timers: slow });
    await alice.phone.register();
    await alice.phone.unregister();
    await until(() => removals.length === 2, 5000); // the retry went out, and waits
    const started = Date.now();
    await alice.phone.shutdown();
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
