import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mediaPackets, sipMessages } from '../support/capture-scan.js';
import { Child } from '../support/child.js';
import { stopCapture } from '../support/tcpdump-capture.js';
import { portRangeHex, renderTemplate } from '../support/gateway-peers.js';
import { NetnsTopology } from '../support/netns-topology.js';
import type { CapturedPacket } from '../support/pcap-reader.js';
import { missingRequirements } from '../support/tools.js';
import { projectRoot } from '../support/veilphone-cli.js';

const skip = missingRequirements(['ip', 'nft', 'tcpdump', 'dnsmasq', 'in.tftpd', 'ss'], { namespaces: true });

/** The service gateway's two sides: the phones' private network and the NAT's public address (seed 003 "NAPPT"). */
const LAN = { gateway: '10.77.0.1', prefix: '10.77.0.' };
const NAT = '198.51.100.7';
/** On the public network: the soft switch (the lab) and a phone outside any service gateway. */
const MGC = { address: '198.51.100.5', port: 5060 };
/** Carol, a phone outside any service gateway, on another public network behind the soft switch's router. */
const CAROL = '203.0.113.9';
const CAROL_ROUTER = '203.0.113.1';
const phones = {
  alice: { mac: '02:00:5e:10:00:11', address: '10.77.0.21', ports: { min: 20000, max: 20019 } },
  bob: { mac: '02:00:5e:10:00:12', address: '10.77.0.22', ports: { min: 20020, max: 20039 } },
} as const;
type Inside = keyof typeof phones;

interface Line {
  event: string;
  [key: string]: unknown;
}
interface MediaLine {
  id: string;
  media?: { localRtp: string; remoteRtp?: string; packetsSent: number; packetsReceived: number; latchedTo?: string };
}

const hex = (bytes: number[]): string => bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
const inRange = (port: number, range: { min: number; max: number }): boolean => port >= range.min && port <= range.max;
const isPrivate = (address: string): boolean => address.startsWith(LAN.prefix);

/** One phone's driver (test/interop/lease/nat-phone-driver.ts) in its namespace, talked to by JSON lines. */
class DriverPhone {
  constructor(readonly child: Child) {}

  lines(): Line[] {
    return this.child.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Line);
  }

  send(command: object): void {
    this.child.process.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  async next(predicate: (line: Line) => boolean, after = 0, ms = 20_000): Promise<Line> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.lines().slice(after).find(predicate);
      if (found) return found;
      const error = this.lines().find((l) => l.event === 'error');
      if (error || this.child.process.exitCode !== null || Date.now() > deadline) throw new Error(`no line matched\n--- stdout\n${this.child.stdout.slice(-3000)}\n--- stderr\n${this.child.stderr.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The running calls' media, once every one of them has sent and received at least `packets` RTP packets. */
  async mediaFlowing(packets: number): Promise<MediaLine[]> {
    for (let i = 0; i < 200; i++) {
      const mark = this.lines().length;
      this.send({ cmd: 'media' });
      const calls = ((await this.next((l) => l.event === 'media', mark)).calls as MediaLine[]) ?? [];
      if (calls.length > 0 && calls.every((c) => (c.media?.packetsReceived ?? 0) >= packets && (c.media?.packetsSent ?? 0) >= packets)) return calls;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`RTP did not flow both ways\n${this.child.stdout.slice(-2000)}`);
  }
}

/**
 * Seed 003 claims 9, 13-15, 25-31 and Fig. 11 with a NAT really in the traffic path. Four network namespaces: two
 * phones (alice, bob) on the service gateway's private network (a bridge), the service gateway (dnsmasq with
 * deploy/dnsmasq, tftpd-hpa with deploy/tftpd, and nftables translating 10.77.0.0/24 to its one public address with
 * ports unchanged, inbound by each phone's port range), and the public network with the soft switch (the lab) and
 * carol, a phone outside. tcpdump on the gateway's public side and on alice's private link proves what crosses each.
 */
describe.skipIf(skip)('NAPPT in the traffic path: provisioned phones behind a port-preserving NAT, and the triangle rule', () => {
  const topology = new NetnsTopology('nat');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-nappt-'));
  const links = { alice: '', bob: '', gwPublic: '', carol: '' };
  let registrations: { child: Child; file: string } | undefined;
  const children: Child[] = [];
  let lab: Child;
  let admin = '';
  const drivers: Partial<Record<Inside | 'carol', DriverPhone>> = {};

  const veilphone = (role: string, args: string[]): Child => {
    const child = new Child(topology.spawn(role, process.execPath, [path.join(projectRoot, 'bin/veilphone.js'), ...args], { cwd: projectRoot }));
    children.push(child);
    return child;
  };

  const driver = (role: string, config: object): DriverPhone => {
    const child = new Child(topology.spawn(role, process.execPath, ['--import', 'tsx', path.join(projectRoot, 'test/interop/lease/nat-phone-driver.ts'), JSON.stringify(config)], { cwd: projectRoot, stdio: ['pipe', 'pipe', 'pipe'] }));
    children.push(child);
    return new DriverPhone(child);
  };

  const snapshot = (): { sip: { bindings: Array<{ user: string; source: string; contact: string }> }; triangle?: Array<{ caller: string; callee: string; path: string; applied: boolean }> } =>
    JSON.parse(topology.exec('wan', process.execPath, ['-e', `fetch(${JSON.stringify(admin)}).then((r) => r.text()).then((t) => process.stdout.write(t))`])) as never;

  async function capture(role: string, iface: string, file: string): Promise<Child> {
    const child = new Child(topology.spawn(role, 'tcpdump', ['-i', iface, '-n', '-U', '--immediate-mode', '-s', '0', '-w', file, 'udp']));
    children.push(child);
    await child.waitFor(/listening on/, 10_000);
    return child;
  }


  beforeAll(async () => {
    for (const role of ['alice', 'bob', 'gw', 'wan', 'carol']) topology.add(role);
    const toAlice = topology.link('alice', 'gw');
    const toBob = topology.link('bob', 'gw');
    const toWan = topology.link('gw', 'wan');
    const toCarol = topology.link('carol', 'wan');
    links.alice = toAlice.a;
    links.bob = toBob.a;
    links.gwPublic = toWan.a;
    links.carol = toCarol.a;
    // the private network: a bridge in the gateway joining both phones' links
    topology.exec('gw', 'ip', ['link', 'add', 'lan0', 'type', 'bridge']);
    for (const port of [toAlice.b, toBob.b]) topology.exec('gw', 'ip', ['link', 'set', port, 'master', 'lan0']);
    topology.exec('gw', 'ip', ['link', 'set', 'lan0', 'up']);
    topology.exec('gw', 'ip', ['addr', 'add', `${LAN.gateway}/24`, 'dev', 'lan0']);
    topology.exec('gw', 'ip', ['addr', 'add', `${NAT}/24`, 'dev', toWan.a]);
    topology.sysctl('gw', 'net.ipv4.ip_forward', '1');
    // the public network knows no route to 10.77.0.0/24: only what the NAT translates comes back
    topology.exec('wan', 'ip', ['addr', 'add', `${MGC.address}/24`, 'dev', toWan.b]);
    topology.exec('gw', 'ip', ['route', 'add', 'default', 'via', MGC.address]);
    topology.exec('wan', 'ip', ['addr', 'add', `${CAROL_ROUTER}/24`, 'dev', toCarol.b]);
    topology.sysctl('wan', 'net.ipv4.ip_forward', '1');
    topology.exec('carol', 'ip', ['addr', 'add', `${CAROL}/24`, 'dev', toCarol.a]);
    topology.exec('carol', 'ip', ['route', 'add', 'default', 'via', CAROL_ROUTER]);
    for (const name of ['alice', 'bob'] as const) {
      const iface = name === 'alice' ? toAlice.a : toBob.a;
      topology.exec(name, 'ip', ['link', 'set', 'dev', iface, 'address', phones[name].mac]);
      // the lease's router (option 3) is not installed by the phone: the test gives the default route
      topology.exec(name, 'ip', ['route', 'add', 'default', 'via', LAN.gateway, 'dev', iface, 'onlink']);
    }
    // Seed 003 NAPPT: outbound, a private source becomes the public address with the port unchanged; inbound, the
    // port alone finds the phone (each phone's leased range)
    const ruleset = [
      'table ip nappt {',
      '  chain inbound {',
      '    type nat hook prerouting priority dstnat; policy accept;',
      ...Object.values(phones).map((p) => `    iifname "${toWan.a}" ip daddr ${NAT} udp dport ${p.ports.min}-${p.ports.max} dnat to ${p.address}`),
      '  }',
      '  chain outbound {',
      '    type nat hook postrouting priority srcnat; policy accept;',
      `    oifname "${toWan.a}" ip saddr ${LAN.prefix}0/24 snat to ${NAT} persistent`,
      '  }',
      '}',
      '',
    ].join('\n');
    fs.writeFileSync(path.join(dir, 'nappt.nft'), ruleset);
    topology.exec('gw', 'nft', ['-f', path.join(dir, 'nappt.nft')]);

    // the service gateway's DHCP and TFTP servers: the reference configurations of deploy/
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(path.join(dir, 'phones.hosts'), Object.values(phones).map((p, i) => `${p.mac},set:ph-${i + 1},${p.address}\n`).join(''));
    fs.writeFileSync(path.join(dir, 'phones.opts'), Object.values(phones).map((p, i) => `tag:ph-${i + 1},224,${portRangeHex(p.ports)}\n`).join(''));
    const conf = renderTemplate('deploy/dnsmasq/veilphone-dhcp.conf', {
      IFACE: 'lan0',
      SERVER_ADDRESS: LAN.gateway,
      NETWORK: `${LAN.prefix}0`,
      NETMASK: '255.255.255.0',
      LEASE_TIME: '1h',
      STATE_DIR: dir,
      MGC_HEX: hex([...MGC.address.split('.').map(Number), MGC.port >> 8, MGC.port & 255]),
      NAT_HEX: hex(NAT.split('.').map(Number)),
      TFTP_SERVER: LAN.gateway,
      BOOT_FILE: 'veilphone.cfg',
    });
    fs.writeFileSync(path.join(dir, 'dnsmasq.conf'), conf);
    const dnsmasq = new Child(topology.spawn('gw', 'dnsmasq', ['--keep-in-foreground', '--log-facility=-', `--conf-file=${path.join(dir, 'dnsmasq.conf')}`, '--user=root', `--pid-file=${path.join(dir, 'dnsmasq.pid')}`]));
    children.push(dnsmasq);
    await dnsmasq.waitFor(/DHCP, static leases only|started, version/);
    const tftpRoot = path.join(dir, 'tftp');
    fs.mkdirSync(tftpRoot, { mode: 0o755 });
    fs.copyFileSync(path.join(projectRoot, 'deploy/tftpd/veilphone.cfg'), path.join(tftpRoot, 'veilphone.cfg'));
    fs.chmodSync(path.join(tftpRoot, 'veilphone.cfg'), 0o644);
    const defaults = renderTemplate('deploy/tftpd/tftpd-hpa', { TFTP_ADDRESS: LAN.gateway, TFTP_DIRECTORY: tftpRoot });
    const vars = Object.fromEntries([...defaults.matchAll(/^(\w+)="(.*)"$/gm)].map((m) => [m[1]!, m[2]!]));
    const tftpd = new Child(topology.spawn('gw', 'in.tftpd', ['--foreground', '--listen', '--user', vars.TFTP_USERNAME!, '--address', vars.TFTP_ADDRESS!, ...vars.TFTP_OPTIONS!.split(/\s+/).filter(Boolean), vars.TFTP_DIRECTORY!]));
    children.push(tftpd);
    for (let i = 0; i < 100 && !/:69\b/.test(topology.exec('gw', 'ss', ['-uln'])); i++) await new Promise((resolve) => setTimeout(resolve, 50));

    // the soft switch, on the public network
    lab = veilphone('wan', ['--data-dir', fs.mkdtempSync(path.join(dir, 'lab-')), 'lab', '--address', MGC.address, '--udp', String(MGC.port), '--tcp', '0', '--ws', '0', '--admin', '0', '--json']);
    admin = (JSON.parse((await lab.waitFor(/^\{"event":"ready".*\}$/m, 20_000))[0]) as { admin: string }).admin;

    const file = path.join(dir, 'register-public.pcap');
    registrations = { child: await capture('gw', toWan.a, file), file };
    drivers.alice = driver('alice', { user: 'alice', iface: toAlice.a, dataDir: fs.mkdtempSync(path.join(dir, 'alice-')) });
    drivers.bob = driver('bob', { user: 'bob', iface: toBob.a, dataDir: fs.mkdtempSync(path.join(dir, 'bob-')) });
    drivers.carol = driver('carol', { user: 'carol', server: `sip:${MGC.address}:${MGC.port};transport=udp`, localAddress: CAROL, dataDir: fs.mkdtempSync(path.join(dir, 'carol-')) });
    for (const phone of Object.values(drivers)) await phone.next((l) => l.event === 'registered', 0, 60_000);
  }, 120_000);

  afterAll(async () => {
    for (const phone of Object.values(drivers)) phone.send({ cmd: 'stop' });
    await Promise.all(Object.values(drivers).map((phone) => phone.child.exitCode(15_000).catch(() => phone.child.kill())));
    for (const child of children) await child.stop(1000).catch(() => undefined);
    topology.destroy();
    if (!process.env.VP_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the registrar sees each phone at the public address, on the very port the phone bound in its leased range, and its Contact declares both', async () => {
    const bindings = snapshot().sip.bindings;
    const publicSide = await stopCapture(registrations!.child, registrations!.file);
    checkPublicSide(publicSide);
    for (const name of ['alice', 'bob'] as const) {
      const binding = bindings.find((b) => b.user === name);
      expect(binding, JSON.stringify(bindings)).toBeDefined();
      const [address, port] = binding!.source.replace(/^\w+:/, '').split(':');
      expect(address).toBe(NAT);
      expect(inRange(Number(port), phones[name].ports)).toBe(true);
      // the phone's own Contact: its private address and the same port, and what it declared (Fig. 4B 466, Fig. 11 1114)
      expect(binding!.contact).toContain(`@${phones[name].address}:${port}`);
      const register = sipMessages(publicSide).find((m) => m.raw.startsWith('REGISTER ') && m.src === NAT && m.srcPort === Number(port));
      expect(register, `no REGISTER from ${NAT}:${port} on the public side`).toBeDefined();
      const contact = /^(?:Contact|m)[ \t]*:(.*)$/im.exec(register!.raw)![1]!;
      expect(contact).toContain(`veil-private="${phones[name].address}:${port}"`);
      expect(contact).toContain(`veil-public="${NAT}:${port}"`);
    }
    expect(bindings.find((b) => b.user === 'carol')!.source).toMatch(new RegExp(`^(?:udp:)?${CAROL.replace(/\./g, '\\.')}:`));
  });

  /** One call from alice: captures on the public side and alice's private link while RTP flows both ways. */
  async function call(target: 'bob' | 'carol', tag: string): Promise<{ publicSide: CapturedPacket[]; privateLink: CapturedPacket[]; carolLink: CapturedPacket[]; alice: MediaLine; callee: MediaLine }> {
    const files = { publicSide: path.join(dir, `${tag}-public.pcap`), privateLink: path.join(dir, `${tag}-private.pcap`) };
    const publicDump = await capture('gw', links.gwPublic, files.publicSide);
    const carolDump = target === 'carol' ? await capture('carol', links.carol, path.join(dir, `${tag}-carol.pcap`)) : undefined;
    const privateDump = await capture('alice', links.alice, files.privateLink);
    const alice = drivers.alice!;
    const callee = drivers[target]!;
    const mark = { alice: alice.lines().length, callee: callee.lines().length };
    alice.send({ cmd: 'call', target });
    await alice.next((l) => l.event === 'call' && l.state === 'established', mark.alice);
    await callee.next((l) => l.event === 'call' && l.state === 'established', mark.callee);
    const [aliceMedia] = await alice.mediaFlowing(25);
    const [calleeMedia] = await callee.mediaFlowing(25);
    alice.send({ cmd: 'hangup' });
    await alice.next((l) => l.event === 'call' && l.state === 'terminated', mark.alice);
    await callee.next((l) => l.event === 'call' && l.state === 'terminated', mark.callee);
    const carolLink = carolDump ? await stopCapture(carolDump, path.join(dir, `${tag}-carol.pcap`)) : [];
    return { publicSide: await stopCapture(publicDump, files.publicSide), privateLink: await stopCapture(privateDump, files.privateLink), carolLink, alice: aliceMedia!, callee: calleeMedia! };
  }

  const endpoint = (text: string): { address: string; port: number } => {
    const at = text.lastIndexOf(':');
    return { address: text.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(text.slice(at + 1)) };
  };

  it('alice calls bob behind the same NAT: each is handed the other\'s private address, and their RTP goes straight between them on the private network, none of it on the public side', async () => {
    const { publicSide, privateLink, alice, callee } = await call('bob', 'inside');
    const aliceRtp = endpoint(alice.media!.localRtp);
    const bobRtp = endpoint(callee.media!.localRtp);
    // the triangle rule (Fig. 11 1110/1114): the SDP each got named the other's private address
    expect(endpoint(alice.media!.remoteRtp!)).toEqual({ address: phones.bob.address, port: bobRtp.port });
    expect(endpoint(callee.media!.remoteRtp!)).toEqual({ address: phones.alice.address, port: aliceRtp.port });
    expect(alice.media!.latchedTo).toBeUndefined();
    expect(callee.media!.latchedTo).toBeUndefined();
    // on alice's link: RTP both ways between the two private addresses, none to or from the public address
    const rtp = mediaPackets(privateLink).filter((p) => p.kind === 'rtp');
    expect(rtp.filter((p) => p.src === phones.alice.address && p.dst === phones.bob.address && p.dstPort === bobRtp.port).length).toBeGreaterThan(20);
    expect(rtp.filter((p) => p.src === phones.bob.address && p.dst === phones.alice.address && p.dstPort === aliceRtp.port).length).toBeGreaterThan(20);
    expect(rtp.filter((p) => p.src === NAT || p.dst === NAT)).toEqual([]);
    // on the public side: the call's signalling went to the soft switch and back, no RTP at all
    expect(mediaPackets(publicSide).filter((p) => p.kind === 'rtp')).toEqual([]);
    expect(sipMessages(publicSide).some((m) => m.raw.startsWith('INVITE '))).toBe(true);
    expect(snapshot().triangle).toContainEqual(expect.objectContaining({ caller: 'alice', callee: 'bob', path: 'private', applied: true }));
    checkPublicSide(publicSide);
  }, 90_000);

  it('alice calls carol outside: carol is handed the public address with alice\'s own port, RTP crosses the NAT both ways with ports unchanged and no private address', async () => {
    const { publicSide, privateLink, carolLink, alice, callee } = await call('carol', 'outside');
    const aliceRtp = endpoint(alice.media!.localRtp);
    const carolRtp = endpoint(callee.media!.localRtp);
    expect(endpoint(alice.media!.remoteRtp!)).toEqual({ address: CAROL, port: carolRtp.port });
    // Fig. 11 1112/1114: carol got the public address, with the port alice really uses (NAPPT keeps ports)
    expect(endpoint(callee.media!.remoteRtp!)).toEqual({ address: NAT, port: aliceRtp.port });
    expect(callee.media!.latchedTo).toBeUndefined();
    const outbound = mediaPackets(publicSide).filter((p) => p.kind === 'rtp' && p.dst === CAROL);
    const inbound = mediaPackets(publicSide).filter((p) => p.kind === 'rtp' && p.src === CAROL);
    expect(outbound.length).toBeGreaterThan(20);
    expect(inbound.length).toBeGreaterThan(20);
    expect(outbound.every((p) => p.src === NAT && p.srcPort === aliceRtp.port && p.dstPort === carolRtp.port)).toBe(true);
    expect(inbound.every((p) => p.dst === NAT && p.dstPort === aliceRtp.port)).toBe(true);
    // the same packets on alice's private link, before the translation
    const privateRtp = mediaPackets(privateLink).filter((p) => p.kind === 'rtp');
    expect(privateRtp.filter((p) => p.src === phones.alice.address && p.srcPort === aliceRtp.port && p.dst === CAROL).length).toBeGreaterThan(20);
    expect(privateRtp.filter((p) => p.src === CAROL && p.dst === phones.alice.address && p.dstPort === aliceRtp.port).length).toBeGreaterThan(20);
    // what carol's phone was handed: the public address in Contact and SDP, never a private one
    const toCarol = sipMessages(carolLink).filter((m) => m.dst === CAROL);
    const invite = toCarol.find((m) => m.raw.startsWith('INVITE '));
    expect(invite).toBeDefined();
    const [head, body] = invite!.raw.split('\r\n\r\n');
    expect(/^(?:Contact|m)[ \t]*:.*$/im.exec(head!)![0]).toContain(`@${NAT}:`);
    expect(body).not.toContain(LAN.prefix);
    expect(body).toMatch(new RegExp(`^c=IN IP4 ${NAT.replace(/\./g, '\\.')}$`, 'm'));
    // Nothing carol received names alice's private address, but the Via headers: the lab keeps alice's own Via, with
    // `received`/`rport` (RFC 3261 §16.6 step 8, RFC 3581), as a proxy without topology hiding does
    const outsideVia = toCarol.flatMap((m) => m.raw.split('\r\n').filter((line) => !/^(?:Via|v)[ \t]*:/i.test(line) && line.includes(LAN.prefix)));
    expect(outsideVia).toEqual([]);
    expect(mediaPackets(carolLink).filter((p) => p.payload.toString('latin1').includes(LAN.prefix))).toEqual([]);
    expect(snapshot().triangle).toContainEqual(expect.objectContaining({ caller: 'alice', callee: 'carol', path: 'public', applied: true }));
    checkPublicSide(publicSide);
  }, 90_000);

  /** No private address in any IP header on the public side; every datagram of a phone keeps the port it sent from. */
  function checkPublicSide(packets: CapturedPacket[]): void {
    expect(packets.length).toBeGreaterThan(0);
    expect(packets.filter((p) => isPrivate(p.src) || isPrivate(p.dst)).map((p) => `${p.src}:${p.srcPort} > ${p.dst}:${p.dstPort}`)).toEqual([]);
    const fromNat = packets.filter((p) => p.src === NAT);
    expect(fromNat.length).toBeGreaterThan(0);
    const ranges = Object.values(phones).map((p) => p.ports);
    expect(fromNat.filter((p) => !ranges.some((r) => inRange(p.srcPort, r))).map((p) => p.srcPort)).toEqual([]);
    expect(packets.filter((p) => p.dst === NAT && !ranges.some((r) => inRange(p.dstPort, r))).map((p) => p.dstPort)).toEqual([]);
  }
});
