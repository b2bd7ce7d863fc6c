import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Child } from '../support/child.js';
import { stopCapture } from '../support/tcpdump-capture.js';
import { NetnsPair } from '../support/netns.js';
import { missingRequirements } from '../support/tools.js';
import { projectRoot } from '../support/veilphone-cli.js';

const skip = missingRequirements(['ip', 'radvd', 'rdisc6', 'tcpdump'], { namespaces: true });

const prefix = '2001:db8:5:1';
const registrar = `${prefix}::1`;
const bobAddress = `${prefix}::b0b`;

interface LabEntry {
  dir: 'in' | 'out';
  at: number;
  remote: string;
  raw: string;
}

/**
 * Seed 000 Embodiment 6 on a real link: radvd advertises a /64 in the `net` namespace, the lab's registrar listens
 * there, and in the `phone` namespace an agent learns the prefix by Router Solicitation, makes 20 calls and receives
 * 5, each on a one-time address really added to (and removed from) its interface. Everything is checked from the
 * registrar's side and from `ip -6 addr`, not from the phone's own word.
 */
describe.skipIf(skip)('one-time IPv6 addresses on a real link (radvd, kernel addresses)', () => {
  const pair = new NetnsPair('ota');
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-ota-'));
  const dataDir = path.join(scratch, 'data');
  const labTrace = path.join(scratch, 'lab-trace.jsonl');
  let lab: Child;
  let admin: string;
  /** Every address added to or deleted from the phone's interface, as the kernel reported it (`ip monitor`). */
  const changes: Array<{ at: number; address: string; deleted: boolean }> = [];

  beforeAll(async () => {
    pair.create({ netV6: `${registrar}/64` });
    for (const key of ['all', 'default', pair.netIf]) pair.sysctl(pair.net, `net.ipv6.conf.${key}.accept_ra`, '0');
    pair.sysctl(pair.net, 'net.ipv6.conf.all.forwarding', '1');
    pair.sysctl(pair.phone, `net.ipv6.conf.${pair.phoneIf}.accept_ra`, '0'); // the phone asks with rdisc6 itself
    pair.sysctl(pair.phone, `net.ipv6.conf.${pair.phoneIf}.router_solicitation_delay`, '0');
    pair.sysctl(pair.phone, `net.ipv6.neigh.${pair.phoneIf}.retrans_time_ms`, '100');
    pair.sysctl(pair.phone, `net.ipv6.conf.${pair.phoneIf}.optimistic_dad`, '1'); // RFC 4429: usable at once
    pair.exec(pair.phone, 'ip', ['-6', 'addr', 'add', `${bobAddress}/64`, 'dev', pair.phoneIf, 'nodad']);
    const conf = path.join(scratch, 'radvd.conf');
    fs.writeFileSync(conf, `interface ${pair.netIf} {\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 10;\n  prefix ${prefix}::/64 {\n    AdvOnLink on;\n    AdvAutonomous on;\n  };\n};\n`);
    pair.spawn(pair.net, 'radvd', ['-n', '-C', conf, '-p', path.join(scratch, 'radvd.pid'), '-m', 'stderr']);
    lab = new Child(pair.spawn(pair.net, process.execPath, [path.join(projectRoot, 'bin/veilphone.js'), '--data-dir', path.join(scratch, 'lab'), 'lab', '--address', registrar, '--udp', '5060', '--tcp', '0', '--ws', '0', '--json', '--admin', '0', '--trace', labTrace], { cwd: projectRoot }));
    const ready = JSON.parse((await lab.waitFor(/^\{"event":"ready".*\}$/m, 20_000))[0]) as { admin: string };
    admin = ready.admin;
    // The link-local address must finish DAD before a Router Solicitation can leave: wait until rdisc6 sees the RA.
    const deadline = Date.now() + 15_000;
    while (!(await inNamespace(pair.phone, 'rdisc6', ['-1', '-r', '1', '-w', '1000', pair.phoneIf])).includes(`${prefix}::/64`)) {
      if (Date.now() > deadline) throw new Error('radvd never answered a router solicitation');
    }
    const monitor = pair.spawn(pair.phone, 'ip', ['-tshort', '-6', 'monitor', 'address']);
    let pending = '';
    let lastStamp = Date.now();
    monitor.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        // `ip -tshort` stamps the first event of each batch it reads; the others of the batch share that time
        const m = /^(?:\[([\d-]+T[\d:.]+)\] )?(Deleted )?\d+: (\S+)\s+inet6 ([0-9a-f:]+)\/64/.exec(line);
        if (m?.[1] !== undefined) lastStamp = new Date(m[1]).getTime();
        if (m && m[3] === pair.phoneIf) changes.push({ at: lastStamp, address: m[4]!, deleted: m[2] !== undefined });
      }
    });
    // the monitor is listening once it reports a probe address coming and going
    const probe = `${prefix}::dead:beef`;
    const listening = Date.now() + 20_000;
    while (!changes.some((c) => c.address === probe && c.deleted)) {
      if (Date.now() > listening) throw new Error('ip monitor never reported the probe address');
      pair.exec(pair.phone, 'ip', ['-6', 'addr', 'add', `${probe}/64`, 'dev', pair.phoneIf, 'nodad']);
      pair.exec(pair.phone, 'ip', ['-6', 'addr', 'del', `${probe}/64`, 'dev', pair.phoneIf]);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }, 60_000);

  afterAll(async () => {
    pair.destroy();
    if (!process.env.VP_KEEP) fs.rmSync(scratch, { recursive: true, force: true });
  });

  function inNamespace(ns: string, command: string, args: string[]): Promise<string> {
    return new Promise((resolve) => execFile('ip', ['netns', 'exec', ns, command, ...args], { encoding: 'utf8', timeout: 10_000 }, (_error, stdout) => resolve(stdout ?? '')));
  }

  /** Global addresses in the prefix on the phone's interface, except bob's fixed one. */
  async function phoneAddresses(): Promise<string[]> {
    const out = await inNamespace(pair.phone, 'ip', ['-j', '-6', 'addr', 'show', 'dev', pair.phoneIf, 'scope', 'global']);
    const links = JSON.parse(out || '[]') as Array<{ addr_info?: Array<{ local?: string }> }>;
    return links.flatMap((l) => l.addr_info ?? []).map((a) => a.local).filter((a): a is string => typeof a === 'string').filter((a) => a.startsWith(`${prefix}:`) && a !== bobAddress);
  }

  async function labSnapshot(): Promise<{ sip: { bindings: Array<{ user: string; contact: string }> } }> {
    const url = new URL(admin);
    const script = `fetch(${JSON.stringify(url.toString())}).then(r => r.text()).then(t => process.stdout.write(t))`;
    return JSON.parse(await inNamespace(pair.net, process.execPath, ['-e', script])) as { sip: { bindings: Array<{ user: string; contact: string }> } };
  }

  function scenario(name: string, steps: string[]): string {
    const file = path.join(scratch, `${name}.yaml`);
    fs.writeFileSync(
      file,
      [
        `name: ${name}`,
        'timeout: 3m',
        `server: "sip:[${registrar}]:5060;transport=udp"`,
        `domain: "[${registrar}]"`,
        'agents:',
        `  alice: { user: alice, transport: udp, answer: auto, address: { mode: temporary, source: router-advertisement, interface: ${pair.phoneIf} } }`,
        `  bob: { user: bob, transport: udp, answer: auto, address: { mode: fixed, local: "${bobAddress}" } }`,
        'steps:',
        ...steps.map((s) => `  - ${s}`),
        '',
      ].join('\n'),
    );
    return file;
  }

  function runAgent(file: string, report: string): Child {
    return new Child(pair.spawn(pair.phone, process.execPath, [path.join(projectRoot, 'bin/veilphone.js'), '--data-dir', dataDir, 'run', file, '--report', report], { cwd: projectRoot }));
  }

  function labEntries(): LabEntry[] {
    return fs.readFileSync(labTrace, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as LabEntry);
  }

  it('20 calls each from a fresh address registered before and erased after; 5 received, each on a new receiving address', async () => {
    const steps = ['register: alice', 'register: bob'];
    for (let i = 1; i <= 20; i++) steps.push(`call: { from: alice, to: bob, id: out${i} }`, `expect: { call: out${i}, state: established }`, `hangup: { call: out${i} }`, `expect: { call: out${i}, state: terminated, status: 200 }`);
    for (let i = 1; i <= 5; i++) {
      // the new receiving address is registered right after each received call (the spent one refuses calls with 480
      // until then): wait for it before the next one
      steps.push(`call: { from: bob, to: alice, id: in${i} }`, `expect: { call: in${i}, state: established }`, `hangup: { call: in${i} }`, `expect: { call: in${i}, state: terminated, status: 200 }`, 'expect: { agent: alice, fresh_address: true }');
    }
    steps.push('unregister: alice', 'unregister: bob');
    const reportFile = path.join(scratch, 'calls.json');
    const run = runAgent(scenario('twenty-out-five-in', steps), reportFile);
    expect(await run.exitCode(170_000), `${run.stdout}\n${run.stderr}`).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 100));

    const report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as {
      calls: Array<{ id: string; legs: { caller: { localAddress?: string; sipCallId: string }; callee?: { localAddress?: string } } }>;
      agents: Record<string, { addresses?: Array<{ address: string; purpose: string; applier: string }> }>;
    };
    const entries = labEntries();
    const requests = entries.filter((e) => e.dir === 'in' && !e.raw.startsWith('SIP/2.0'));
    const hostOf = (remote: string): string => remote.replace(/^\[?([^\]]+)\]?:\d+$/, '$1');
    const outgoing = report.calls.filter((c) => c.id.startsWith('out'));
    const sources = new Set<string>();
    for (const call of outgoing) {
      const invite = requests.find((r) => r.raw.startsWith('INVITE ') && r.raw.includes(call.legs.caller.sipCallId))!;
      expect(invite, call.id).toBeDefined();
      const source = hostOf(invite.remote);
      expect(source.startsWith(`${prefix}:`) && source !== bobAddress, `${call.id} came from ${source}`).toBe(true);
      expect(source).toBe(call.legs.caller.localAddress);
      expect(/^Contact:.*$/im.exec(invite.raw)![0]).toContain(`[${source}]`);
      expect(invite.raw).toContain(`c=IN IP6 ${source}`);
      sources.add(source);
      // REGISTER from the address before the INVITE, REGISTER Expires: 0 after it, nothing from it afterwards
      const fromIt = requests.filter((r) => hostOf(r.remote) === source);
      // one REGISTER and one REGISTER Expires: 0, however often UDP retransmitted either (same CSeq)
      const cseq = (raw: string): string => /^CSeq:.*$/im.exec(raw)![0];
      const registers = fromIt.filter((r, i) => r.raw.startsWith('REGISTER ') && fromIt.findIndex((o) => cseq(o.raw) === cseq(r.raw)) === i);
      expect(registers).toHaveLength(2);
      expect(registers[0]!.at).toBeLessThanOrEqual(invite.at);
      expect(registers[1]!.raw).toMatch(/expires=0\b|^Expires: 0\r?$/im);
      expect(cseq(fromIt.at(-1)!.raw)).toBe(cseq(registers[1]!.raw));
      // removed from the interface after its deregistration, once: the kernel reports every deletion (it announces an
      // added IPv6 address only once duplicate address detection is over, which a short call with an optimistic
      // address may not live to see) — `ip monitor` stamps events when it prints them, hence the slack
      const added = changes.filter((c) => c.address === source && !c.deleted);
      const deleted = changes.filter((c) => c.address === source && c.deleted);
      expect(deleted, `${source} was never deleted from the interface`).toHaveLength(1);
      expect(added.length).toBeLessThanOrEqual(1);
      expect(deleted[0]!.at).toBeGreaterThanOrEqual(registers[1]!.at - 1500);
      expect(deleted[0]!.at).toBeLessThanOrEqual(registers[1]!.at + 1500);
    }
    expect(sources.size).toBe(20);
    // In the kernel's own order of events, no two sending addresses were ever on the interface at once: each call's
    // address shows up (if at all) and goes before the next call's appears.
    const blocks = changes.filter((c) => sources.has(c.address)).map((c) => c.address).filter((a, i, all) => a !== all[i - 1]);
    expect(blocks).toEqual(outgoing.map((call) => call.legs.caller.localAddress));

    const receiving = (report.agents.alice!.addresses ?? []).filter((a) => a.purpose === 'receiving');
    expect(receiving.length).toBe(6); // one at login, a new one after each of the 5 received calls
    expect(new Set(receiving.map((a) => a.address)).size).toBe(6);
    expect(receiving.every((a) => a.applier === 'kernel')).toBe(true);
    const answeredOn = report.calls.filter((c) => c.id.startsWith('in')).map((c) => c.legs.callee!.localAddress);
    expect(new Set(answeredOn).size).toBe(5);
    expect(answeredOn).toEqual(receiving.slice(0, 5).map((a) => a.address));

    expect(await phoneAddresses()).toEqual([]);
    expect((await labSnapshot()).sip.bindings.filter((b) => b.user === 'alice')).toEqual([]);
  }, 180_000);

  it('after kill -9 mid-call, the next start removes the stale address and binding', async () => {
    const crashing = runAgent(scenario('crash', ['register: alice', 'register: bob', 'call: { from: alice, to: bob, id: c1 }', 'expect: { call: c1, state: established }', 'wait: 60s']), path.join(scratch, 'crash.json'));
    await crashing.waitFor(/ok +4 expect/, 30_000);
    // While the call is up, the kernel picks no one-time address as the source of a socket that did not bind one (they
    // are deprecated, RFC 6724 rule 3): other programs' traffic, even to a prefix both share, leaves from bob's address.
    const during = await phoneAddresses();
    expect(during).toHaveLength(2);
    // an address is no candidate while duplicate address detection runs (RFC 4429 §3.1): wait until it is over
    const settled = Date.now() + 15_000;
    while (/tentative/.test(await inNamespace(pair.phone, 'ip', ['-6', 'addr', 'show', 'dev', pair.phoneIf, 'scope', 'global']))) {
      if (Date.now() > settled) throw new Error('duplicate address detection never ended');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    pair.exec(pair.phone, 'ip', ['-6', 'route', 'replace', '2001:db8:77::/48', 'dev', pair.phoneIf]);
    for (const destination of ['2001:db8:77::1', `${prefix}::7`]) {
      const route = await inNamespace(pair.phone, 'ip', ['-6', 'route', 'get', destination]);
      expect(/ src ([0-9a-f:]+)/.exec(route)?.[1], `${destination}: ${route}`).toBe(bobAddress);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    crashing.process.kill('SIGKILL');
    await crashing.exited;
    const left = await phoneAddresses();
    expect(left).toHaveLength(2); // the receiving address and the call's sending address
    const stale = (await labSnapshot()).sip.bindings.filter((b) => b.user === 'alice');
    expect(stale).toHaveLength(2);

    // what the access network sees of the restart: tcpdump on the registrar's side of the link
    const pcap = path.join(scratch, 'restart.pcap');
    const dump = new Child(pair.spawn(pair.net, 'tcpdump', ['-i', pair.netIf, '-n', '-U', '--immediate-mode', '-s', '0', '-w', pcap, 'udp port 5060']));
    await dump.waitFor(/listening on/, 10_000);
    const restarted = Date.now();
    const restart = runAgent(scenario('restart', ['register: alice', 'unregister: alice']), path.join(scratch, 'restart.json'));
    expect(await restart.exitCode(60_000), `${restart.stdout}\n${restart.stderr}`).toBe(0);
    const onTheWire = (await stopCapture(dump, pcap)).filter((p) => p.dstPort === 5060 && p.payload.toString('latin1').startsWith('REGISTER '));
    expect(await phoneAddresses()).toEqual([]);
    expect((await labSnapshot()).sip.bindings.filter((b) => b.user === 'alice')).toEqual([]);
    // As the registrar saw them: the REGISTERs that erased the dead Contacts came from one fresh address, neither bob's
    // (the host's own) nor a dead one nor the new receiving one, and the kernel saw it deleted again.
    const hostOf = (remote: string): string => remote.replace(/^\[?([^\]]+)\]?:\d+$/, '$1');
    const registers = labEntries().filter((e) => e.dir === 'in' && e.at >= restarted && /^REGISTER /.test(e.raw));
    const removals = registers.filter((e) => stale.some((b) => e.raw.includes(b.contact.replace(/^<|>.*$/g, ''))));
    const senders = new Set(removals.map((e) => hostOf(e.remote)));
    expect(removals.length).toBeGreaterThanOrEqual(2);
    expect(senders.size).toBe(1);
    const [sender] = senders;
    expect(sender).not.toBe(bobAddress);
    expect(sender!.startsWith(`${prefix}:`)).toBe(true);
    expect(stale.some((b) => b.contact.includes(sender!))).toBe(false);
    expect(registers.filter((e) => !removals.includes(e)).some((e) => hostOf(e.remote) === sender)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 300)); // ip monitor's last lines
    expect(changes.filter((c) => c.address === sender && c.deleted)).toHaveLength(1); // its addition may go unreported (above)
    // and on the wire: every REGISTER naming a dead Contact left from that address, none from bob's (the host's own)
    const naming = onTheWire.filter((p) => stale.some((b) => p.payload.toString('latin1').includes(b.contact.replace(/^<|>.*$/g, ''))));
    expect(naming.length).toBeGreaterThanOrEqual(2);
    expect(new Set(naming.map((p) => p.src))).toEqual(new Set([sender]));
    expect(onTheWire.filter((p) => p.src === bobAddress)).toEqual([]);
  }, 120_000);
});
