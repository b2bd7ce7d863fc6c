import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IpCommandApplier, SignalingOnlyApplier } from './address-applier.js';
import { OwnershipJournal } from './address-journal.js';
import { LoopbackAddressSource, RandomInterfaceIdSource } from './address-source.js';
import type { CommandRunner } from './command-runner.js';
import { InterfaceIdGenerator, isReservedInterfaceId } from './interface-id.js';
import { bigIntToIpv6, interfaceIdOf, ipv6ToBigInt, parsePrefix, withInterfaceId } from './ipv6.js';
import { ConfiguredPrefixSource, InterfacePrefixSource, parseRdisc6Prefix } from './prefix-source.js';
import { recoverOwnership } from './recover-ownership.js';
import { TemporaryAddressManager, type LeasedAddress } from './temporary-address-manager.js';
import { until } from '../../test/support/until.js';

describe('interface identifiers (RFC 8981 §3.3.1, RFC 5453)', () => {
  // the 10^6 draws property: interface-id.slow.test.ts
  it('knows the reserved identifiers and skips them even when the random source hands them out', () => {
    for (const reserved of [0n, 0x0200_5eff_fe00_5213n, 0x0200_5eff_fe00_0000n, 0xfdff_ffff_ffff_ff80n, 0xfdff_ffff_ffff_ffffn]) expect(isReservedInterfaceId(reserved)).toBe(true);
    expect(isReservedInterfaceId(0xfdff_ffff_ffff_ff7fn)).toBe(false);
    const queue = [0n, 0x0200_5eff_fe00_5213n, 7n, 7n, 9n];
    const generator = new InterfaceIdGenerator(10, () => {
      const out = Buffer.alloc(8);
      out.writeBigUInt64BE(queue.shift()!);
      return out;
    });
    expect([generator.next(), generator.next()]).toEqual([7n, 9n]); // reserved skipped, the repeated 7 too
  });
});

describe('IPv6 text and prefixes', () => {
  it('round-trips and compresses the longest zero run (RFC 5952)', () => {
    for (const text of ['2001:db8::1', '::1', 'fe80::', '2001:db8:0:1:1:1:1:1', '2001:db8::a:0:0:1']) expect(bigIntToIpv6(ipv6ToBigInt(text))).toBe(text);
    expect(bigIntToIpv6(ipv6ToBigInt('2001:0db8:0000:0000:0001:0000:0000:0001'))).toBe('2001:db8::1:0:0:1');
  });

  it('combines a /64 with an interface identifier and refuses other lengths', () => {
    const prefix = parsePrefix('2001:db8:1:2:aaaa::/64');
    expect(prefix.network).toBe('2001:db8:1:2::');
    expect(withInterfaceId(prefix, 0x1234_5678_9abc_def0n)).toBe('2001:db8:1:2:1234:5678:9abc:def0');
    expect(interfaceIdOf('2001:db8:1:2:1234:5678:9abc:def0')).toBe(0x1234_5678_9abc_def0n);
    expect(() => parsePrefix('2001:db8::/48')).toThrow(/need a \/64/);
    expect(() => parsePrefix('not-a-prefix')).toThrow(/not an IPv6 prefix/);
  });
});

describe('prefix sources', () => {
  it('reads the prefix from rdisc6 output', () => {
    const output = ['Soliciting ff02::2 (ff02::2) on vph0...', '', 'Hop limit                 :           64 (      0x40)', ' Prefix                   : 2001:db8:77:1::/64', '  On-link                 :          Yes', '  Autonomous address conf.:          Yes', '  Valid time              :        86400 (0x00015180)', ' from fe80::1'].join('\n');
    expect(parseRdisc6Prefix(output)?.network).toBe('2001:db8:77:1::');
    expect(parseRdisc6Prefix(output.replace('conf.:          Yes', 'conf.:          No'))).toBeUndefined();
    expect(parseRdisc6Prefix('Timed out.')).toBeUndefined();
  });

  it('reads the interface\'s global /64 from ip -j, skipping tentative and deprecated ones', async () => {
    const run: CommandRunner = async () => ({
      code: 0,
      stderr: '',
      stdout: JSON.stringify([{ ifname: 'eth0', addr_info: [{ family: 'inet6', local: '2001:db8:9::5', prefixlen: 64, scope: 'global', tentative: true }, { family: 'inet6', local: '2001:db8:8::5', prefixlen: 64, scope: 'global' }] }]),
    });
    expect(await new InterfacePrefixSource('eth0', run).prefix()).toEqual({ prefix: { network: '2001:db8:8::', length: 64 }, ifname: 'eth0' });
  });
});

describe('TemporaryAddressManager', () => {
  function fakeIp(): { run: CommandRunner; calls: string[]; dadFail: Set<string> } {
    const calls: string[] = [];
    const present = new Set<string>();
    const dadFail = new Set<string>();
    const run: CommandRunner = async (command, args) => {
      calls.push(`${command} ${args.join(' ')}`);
      if (args.includes('add')) present.add(args[3]!.split('/')[0]!);
      if (args.includes('del')) present.delete(args[3]!.split('/')[0]!);
      if (args[0] === '-j') return { code: 0, stderr: '', stdout: JSON.stringify([{ addr_info: [...present].map((local) => ({ local, dadfailed: dadFail.has(local), tentative: dadFail.has(local) })) }]) };
      return { code: 0, stderr: '', stdout: '' };
    };
    return { run, calls, dadFail };
  }

  function dir(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), 'vp-addr-'));
  }

  it('adds each address with lifetimes before use and deletes it on release, with a fresh one prepared ahead', async () => {
    const ip = fakeIp();
    const journal = OwnershipJournal.open(dir());
    const manager = new TemporaryAddressManager({ source: new RandomInterfaceIdSource(new ConfiguredPrefixSource('2001:db8:1:2::/64', 'vph0'), new InterfaceIdGenerator()), applier: new IpCommandApplier({ run: ip.run, dad: 'full' }), journal });
    const first = await manager.acquire('sending');
    expect(first.address).toMatch(/^2001:db8:1:2:/);
    expect(ip.calls[0]).toMatch(new RegExp(`^ip -6 addr add ${first.address}/64 dev vph0 preferred_lft 0 valid_lft \\d+$`)); // deprecated: never the source of an unbound socket
    expect(journal.outstanding().map((e) => e.thing)).toContainEqual(expect.objectContaining({ kind: 'address', address: first.address }));
    await until(() => manager.status().prepared);
    const second = await manager.acquire('sending');
    expect(second.address).not.toBe(first.address);
    await first.release();
    expect(ip.calls).toContain(`ip -6 addr del ${first.address}/64 dev vph0`);
    await manager.close();
    expect(journal.outstanding()).toEqual([]);
  });

  /** `ip` whose first `failures` removals fail (a busy device, a lost permission), and each removal's time. */
  function failingDel(failures: number): { run: CommandRunner; dels: number[]; present: Set<string>; failing: { left: number } } {
    const ip = fakeIp();
    const dels: number[] = [];
    const present = new Set<string>();
    const failing = { left: failures };
    const run: CommandRunner = async (command, args) => {
      if (args.includes('del')) {
        dels.push(Date.now());
        if (failing.left-- > 0) return { code: 2, stdout: '', stderr: 'RTNETLINK answers: Device or resource busy' };
        present.delete(args[3]!.split('/')[0]!);
      }
      if (args.includes('add')) present.add(args[3]!.split('/')[0]!);
      return ip.run(command, args);
    };
    return { run, dels, present, failing };
  }

  function failingManager(ip: { run: CommandRunner }, journal: OwnershipJournal, removalRetries: { attempts?: number; firstDelayMs?: number }): TemporaryAddressManager {
    return new TemporaryAddressManager({ source: new RandomInterfaceIdSource(new ConfiguredPrefixSource('2001:db8:1:2::/64', 'vph0'), new InterfaceIdGenerator()), applier: new IpCommandApplier({ run: ip.run, dad: 'skip' }), journal, prepareAhead: false, removalRetries });
  }

  it('an address whose removal failed stays owed: shown in status, kept in the journal, and removed by a later try', async () => {
    const ip = failingDel(2);
    const journal = OwnershipJournal.open(dir());
    const manager = failingManager(ip, journal, { firstDelayMs: 40 });
    const address = await manager.acquire('receiving');
    await expect(address.release()).rejects.toThrow(/Device or resource busy/);
    expect(manager.status().active).toEqual([]);
    expect(manager.status().leftOnInterface).toEqual([{ address: address.address, purpose: 'receiving', attempts: 1, reason: expect.stringContaining('Device or resource busy') }]);
    expect(journal.outstanding().map((e) => e.thing)).toEqual([expect.objectContaining({ kind: 'address', address: address.address })]);
    await until(() => manager.status().leftOnInterface.length === 0);
    expect(ip.present.has(address.address)).toBe(false);
    expect(journal.outstanding()).toEqual([]);
    // three removals, each wait twice the last: 40 ms, then 80 ms
    expect(ip.dels).toHaveLength(3);
    expect(ip.dels[1]! - ip.dels[0]!).toBeGreaterThanOrEqual(35);
    expect(ip.dels[2]! - ip.dels[1]!).toBeGreaterThanOrEqual(75);
    await manager.close();
  });

  it('a removal that keeps failing is tried a bounded number of times, then once more at close()', async () => {
    const ip = failingDel(Infinity);
    const journal = OwnershipJournal.open(dir());
    const manager = failingManager(ip, journal, { attempts: 3, firstDelayMs: 10 });
    const address = await manager.acquire('sending');
    await expect(address.release()).rejects.toThrow();
    await until(() => ip.dels.length === 4); // the first and three more
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(ip.dels).toHaveLength(4); // no busy loop: it waits for close()
    expect(manager.status().leftOnInterface).toEqual([expect.objectContaining({ address: address.address, attempts: 4 })]);
    ip.failing.left = 0;
    await manager.close();
    expect(ip.dels).toHaveLength(5);
    expect(ip.present.has(address.address)).toBe(false);
    expect(manager.status().leftOnInterface).toEqual([]);
    expect(journal.outstanding()).toEqual([]);
  });

  /** An address whose removal failed `fails` times in a row, the first during the run; then close(). */
  async function closedAfterFailedRemoval(fails: number): Promise<{ ip: ReturnType<typeof failingDel>; where: string; journal: OwnershipJournal; manager: TemporaryAddressManager; address: LeasedAddress }> {
    const ip = failingDel(fails);
    const where = dir();
    const journal = OwnershipJournal.open(where);
    const manager = failingManager(ip, journal, { firstDelayMs: 60_000 });
    const address = await manager.acquire('sending');
    await expect(address.release()).rejects.toThrow();
    await manager.close();
    return { ip, where, journal, manager, address };
  }

  it('close() removes an address whose removal failed during the run without waiting for its next try', async () => {
    const { ip, where, journal, address } = await closedAfterFailedRemoval(1);
    expect(ip.dels).toHaveLength(2);
    expect(ip.present.has(address.address)).toBe(false);
    journal.close();
    expect(OwnershipJournal.open(where).outstanding()).toEqual([]);
  });

  it('an address still failing at close() stays in the journal for the next start', async () => {
    const { where, journal, manager, address } = await closedAfterFailedRemoval(Infinity);
    expect(manager.status().leftOnInterface).toEqual([expect.objectContaining({ address: address.address, attempts: 2 })]);
    journal.close();
    expect(OwnershipJournal.open(where).outstanding().map((e) => e.thing)).toEqual([expect.objectContaining({ kind: 'address', address: address.address })]);
  });

  it('takes a new interface ID when duplicate address detection fails, a bounded number of times', async () => {
    const ip = fakeIp();
    const ids = [1n, 2n, 3n];
    const generator = new InterfaceIdGenerator(10, () => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(ids.shift() ?? 99n);
      return b;
    });
    ip.dadFail.add('2001:db8:1:2::1');
    const manager = new TemporaryAddressManager({ source: new RandomInterfaceIdSource(new ConfiguredPrefixSource('2001:db8:1:2::/64', 'vph0'), generator), applier: new IpCommandApplier({ run: ip.run, dad: 'full' }), prepareAhead: false });
    const address = await manager.acquire('receiving');
    expect(address.address).toBe('2001:db8:1:2::2');
    expect(ip.calls).toContain('ip -6 addr del 2001:db8:1:2::1/64 dev vph0');
    ip.dadFail.add('2001:db8:1:2::3');
    ip.dadFail.add('2001:db8:1:2::63');
    await expect(new TemporaryAddressManager({ source: new RandomInterfaceIdSource(new ConfiguredPrefixSource('2001:db8:1:2::/64', 'vph0'), generator), applier: new IpCommandApplier({ run: ip.run, dad: 'full' }), dadRetries: 1, prepareAhead: false }).acquire('sending')).rejects.toMatchObject({ code: 'DAD_FAILED' });
  });

  it('keeps in the journal an address that failed DAD and could not be taken off again, and says so', async () => {
    const journal = OwnershipJournal.open(dir());
    const run: CommandRunner = async (_command, args) => {
      if (args[0] === '-j') return { code: 0, stderr: '', stdout: JSON.stringify([{ addr_info: [{ local: '2001:db8:1:2::7', dadfailed: true, tentative: true }] }]) };
      if (args.includes('del')) return { code: 2, stdout: '', stderr: 'RTNETLINK answers: Operation not permitted' };
      return { code: 0, stdout: '', stderr: '' };
    };
    const generator = new InterfaceIdGenerator(10, () => Buffer.from([0, 0, 0, 0, 0, 0, 0, 7]));
    const manager = new TemporaryAddressManager({ source: new RandomInterfaceIdSource(new ConfiguredPrefixSource('2001:db8:1:2::/64', 'vph0'), generator), applier: new IpCommandApplier({ run, dad: 'full' }), journal, dadRetries: 0, prepareAhead: false });
    await expect(manager.acquire('sending')).rejects.toMatchObject({ code: 'DAD_FAILED', leftBehind: true, message: expect.stringMatching(/could not be removed either: .*Operation not permitted/) });
    expect(journal.outstanding().map((e) => e.thing)).toEqual([expect.objectContaining({ kind: 'address', address: '2001:db8:1:2::7' })]);
  });

  it('after a crash, removes what the journal says is still there and hands back the bindings', async () => {
    const ip = fakeIp();
    const where = dir();
    const crashed = OwnershipJournal.open(where);
    crashed.own({ kind: 'address', address: '2001:db8:1:2::abcd', prefixLength: 64, ifname: 'vph0', applier: 'kernel' });
    const binding = crashed.own({ kind: 'binding', aor: 'sip:alice@lab', contact: 'sip:x@[2001:db8:1:2::abcd]:5062', server: { address: '2001:db8:1:2::1', port: 5060 }, transport: 'udp' });
    crashed.own({ kind: 'address', address: '2001:db8:1:2::beef', prefixLength: 64, ifname: 'vph0', applier: 'kernel' });
    crashed.release(crashed.outstanding()[2]!.id);
    fs.appendFileSync(crashed.file, '{"op":"own","id":9,"thi'); // a line torn by the kill
    const restarted = OwnershipJournal.open(where);
    const { removed, bindings } = await recoverOwnership(restarted, ip.run);
    expect(removed).toEqual(['2001:db8:1:2::abcd']);
    expect(ip.calls).toEqual(['ip -6 addr del 2001:db8:1:2::abcd/64 dev vph0']);
    expect(bindings).toEqual([expect.objectContaining({ journalId: binding, contact: 'sip:x@[2001:db8:1:2::abcd]:5062' })]);
    restarted.release(binding);
    expect(OwnershipJournal.open(where).outstanding()).toEqual([]);
  });

  it('journals how long a binding may last, never backwards, and stays bounded however many refreshes it records', () => {
    const where = dir();
    const journal = OwnershipJournal.open(where);
    const binding = journal.own({ kind: 'binding', aor: 'alice@lab', contact: 'sip:x@127.0.0.9:5062', server: { address: '127.0.0.1', port: 5060 }, transport: 'udp' });
    const start = Date.now();
    for (let refresh = 1; refresh <= 2500; refresh++) journal.lastsUntil(binding, start + refresh * 1000);
    journal.lastsUntil(binding, start); // an older bound changes nothing
    const lines = fs.readFileSync(journal.file, 'utf8').trim().split('\n').length;
    expect(lines).toBeLessThan(1100);
    journal.close();
    expect(OwnershipJournal.open(where).outstanding()).toEqual([expect.objectContaining({ id: binding, until: start + 2_500_000 })]);
  });

  it('a rewrite of the journal that fails (its temporary file cannot be made) loses no line and stops no write', () => {
    const where = dir();
    const journal = OwnershipJournal.open(where);
    fs.mkdirSync(`${journal.file}.tmp`); // the rewrite's temporary file cannot be opened over a directory
    const binding = journal.own({ kind: 'binding', aor: 'alice@lab', contact: 'sip:x@127.0.0.9:5062', server: { address: '127.0.0.1', port: 5060 }, transport: 'udp' });
    const start = Date.now();
    for (let refresh = 1; refresh <= 2500; refresh++) journal.lastsUntil(binding, start + refresh * 1000);
    const address = journal.own({ kind: 'address', address: '2001:db8:1:2::beef', prefixLength: 64, ifname: 'vph0', applier: 'kernel' });
    expect(journal.rewriteFailure).toMatch(/EISDIR|directory/i);
    journal.close();
    fs.rmdirSync(`${journal.file}.tmp`);
    const reopened = OwnershipJournal.open(where);
    expect(reopened.outstanding()).toEqual([expect.objectContaining({ id: binding, until: start + 2_500_000 }), expect.objectContaining({ id: address })]);
    reopened.close();
  });

  it('after a crash, keeps in the journal an address it cannot remove now, and says why', async () => {
    const where = dir();
    const crashed = OwnershipJournal.open(where);
    crashed.own({ kind: 'address', address: '2001:db8:1:2::dead', prefixLength: 64, ifname: 'vph0', applier: 'kernel' });
    const refused: CommandRunner = async () => ({ code: 2, stdout: '', stderr: 'RTNETLINK answers: Operation not permitted' });
    const { removed, kept } = await recoverOwnership(OwnershipJournal.open(where), refused);
    expect(removed).toEqual([]);
    expect(kept).toEqual([{ address: '2001:db8:1:2::dead', reason: expect.stringContaining('Operation not permitted') }]);
    expect(OwnershipJournal.open(where).outstanding().map((e) => e.thing)).toEqual([expect.objectContaining({ address: '2001:db8:1:2::dead' })]);
  });

  it('hands out distinct loopback addresses that bind without root, and signaling-only addresses that do not bind', async () => {
    const loop = new LoopbackAddressSource();
    const addresses = await Promise.all(Array.from({ length: 50 }, () => loop.next()));
    expect(new Set(addresses.map((a) => a.address)).size).toBe(50);
    expect(addresses.every((a) => /^127\.(?!0\.)\d+\.\d+\.\d+$/.test(a.address))).toBe(true);
    const manager = new TemporaryAddressManager({ source: new RandomInterfaceIdSource(new ConfiguredPrefixSource('2001:db8:5:5::/64'), new InterfaceIdGenerator()), applier: new SignalingOnlyApplier() });
    expect(await manager.acquire('sending')).toMatchObject({ applier: 'signaling-only', binds: false, family: 6 });
    await manager.close();
  });
});
