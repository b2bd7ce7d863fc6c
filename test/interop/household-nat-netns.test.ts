import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mediaPackets, sipMessages } from '../support/capture-scan.js';
import { Child } from '../support/child.js';
import { jsonLine } from '../support/json-lines.js';
import { stopCapture } from '../support/tcpdump-capture.js';
import { NetnsTopology } from '../support/netns-topology.js';
import { missingRequirements } from '../support/tools.js';
import { projectRoot } from '../support/veilphone-cli.js';

const room = '100-1101-1201';
const publicAddress = '203.0.113.1';
const outsideAddress = '203.0.113.2';
const skip = missingRequirements(['ip', 'tcpdump', 'nft'], { namespaces: true });

interface CallLine {
  id: string;
  direction: string;
  remote?: string;
  status?: number;
  media?: { packetsReceived: number; packetsSent: number; remoteRtp?: string };
}

/**
 * Seed 001 Fig. 4 and Fig. 13 with a real NAT: an outside namespace (a SIP server for outside.lab and a phone), a
 * building namespace (the management server and the gatekeeper on the public address, an nftables masquerade for the
 * rooms' private network), a room namespace (its gateway, a bridge) and two terminal namespaces on that bridge. tcpdump
 * on the outside link: every packet there is between the public address and the outside, and no SIP message names a
 * private address in a Via, Record-Route, Contact or SDP (nor anywhere else); calls both ways connect with RTP both ways.
 */
describe.skipIf(skip)('a household building behind its gatekeeper\'s NAT, in network namespaces (seed 001 Fig. 4, Fig. 13)', () => {
  const topology = new NetnsTopology('hn');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-household-nat-'));
  const children: Child[] = [];
  const capture = path.join(dir, 'outside.pcap');
  let outsideIf = '';
  let building: Child;
  let outside: Child;
  let terminal: Child;
  let second: Child;
  let dump: Child;
  let terminalNumber = '';

  const node = (role: string, script: string, config: unknown): Child => {
    const child = new Child(topology.spawn(role, process.execPath, ['--import', 'tsx', path.join(projectRoot, 'test/support/household', script), JSON.stringify(config)], { cwd: projectRoot, stdio: ['pipe', 'pipe', 'pipe'] }));
    children.push(child);
    return child;
  };
  const send = (child: Child, command: unknown): void => void child.process.stdin!.write(`${JSON.stringify(command)}\n`);

  beforeAll(async () => {
    for (const role of ['outside', 'building', 'room', 't1', 't2']) topology.add(role);
    const up = topology.link('building', 'outside');
    outsideIf = up.b;
    topology.exec('building', 'ip', ['addr', 'add', `${publicAddress}/24`, 'dev', up.a]);
    topology.exec('outside', 'ip', ['addr', 'add', `${outsideAddress}/24`, 'dev', up.b]);
    const down = topology.link('building', 'room');
    topology.exec('building', 'ip', ['addr', 'add', '10.77.254.1/24', 'dev', down.a]);
    topology.exec('room', 'ip', ['addr', 'add', '10.77.254.2/24', 'dev', down.b]);
    topology.exec('building', 'ip', ['route', 'add', '10.77.1.0/24', 'via', '10.77.254.2']);
    topology.exec('room', 'ip', ['route', 'add', 'default', 'via', '10.77.254.1']);
    topology.sysctl('building', 'net.ipv4.ip_forward', '1');
    topology.sysctl('room', 'net.ipv4.ip_forward', '1');
    // Fig. 4: the building's NAT: what the rooms send out leaves with the public address (the kernel's conntrack
    // takes the answers back in)
    const rules = path.join(dir, 'nat.nft');
    fs.writeFileSync(rules, `table ip vpnat {\n  chain post {\n    type nat hook postrouting priority 100; policy accept;\n    oifname "${up.a}" ip saddr 10.77.0.0/16 masquerade\n  }\n}\n`);
    topology.exec('building', 'nft', ['-f', rules]);

    topology.exec('room', 'ip', ['link', 'add', 'br0', 'type', 'bridge']);
    topology.exec('room', 'ip', ['link', 'set', 'br0', 'up']);
    const lan = topology.link('room', 't1');
    topology.exec('room', 'ip', ['link', 'set', lan.a, 'master', 'br0']);
    const lan2 = topology.link('room', 't2');
    topology.exec('room', 'ip', ['link', 'set', lan2.a, 'master', 'br0']);

    dump = new Child(topology.spawn('outside', 'tcpdump', ['-i', outsideIf, '-n', '-U', '--immediate-mode', '-s', '0', '-w', capture]));
    children.push(dump);
    await dump.waitFor(/listening on/, 10_000);

    building = node('building', 'building-node.ts', {
      building: '100-1101',
      rooms: { [room]: 4 },
      pool: { first: '10.77.1.1', last: '10.77.1.20' },
      file: path.join(dir, 'household.json'),
      managementAddress: '10.77.254.1',
      publicAddress,
      outside: { domain: 'outside.lab', address: outsideAddress, port: 5060 },
    });
    const ready = await jsonLine<{ management: string }>(building, 'ready');
    outside = node('outside', 'outside-node.ts', { address: outsideAddress, domain: 'outside.lab', building: { domain: 'household.lab', address: publicAddress, port: 5060 } });
    expect(await jsonLine<{ state: string }>(outside, 'ready')).toMatchObject({ state: 'registered' });
    const roomNode = node('room', 'room-node.ts', { room, size: 4, pool: { first: '10.77.1.1', last: '10.77.1.20' }, lan: 'br0', file: path.join(dir, 'unused.json'), management: ready.management, gatekeeper: { address: publicAddress, port: 5060 } });
    await jsonLine(roomNode, 'ready');
    topology.exec('room', 'ip', ['route', 'add', '255.255.255.255/32', 'dev', 'br0']); // RFC 2131 §4.1 broadcast replies
    terminal = node('t1', 'terminal-node.ts', { iface: lan.b, toneHz: 1000 });
    const registered = await jsonLine<{ household: { number: string; address: string }; state: string }>(terminal, 'registered');
    expect(registered).toMatchObject({ state: 'registered', household: { number: `${room}-1`, address: '10.77.1.2' } });
    terminalNumber = registered.household.number;
    second = node('t2', 'terminal-node.ts', { iface: lan2.b, toneHz: 800 });
    expect(await jsonLine<{ household: { number: string } }>(second, 'registered')).toMatchObject({ household: { number: `${room}-2` } });
    // the terminals reach the world through their room's gateway (option 3, its first address)
    for (const t of ['t1', 't2']) topology.exec(t, 'ip', ['route', 'add', 'default', 'via', '10.77.1.1']);
  }, 90_000);

  afterAll(async () => {
    for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGTERM');
    await Promise.allSettled(children.map((c) => c.exitCode(5000)));
    topology.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A call from `caller` to `target`, answered by `callee`, with RTP both ways; hung up by `hangupBy`. */
  async function callThrough(caller: Child, callee: Child, target: string, hangupBy: 'caller' | 'callee'): Promise<{ placed: CallLine; received: CallLine }> {
    const before = (callee.stdout.match(/\{"incoming":/g) ?? []).length;
    send(caller, { call: target });
    const incoming = await jsonLine<CallLine>(callee, 'incoming', () => (callee.stdout.match(/\{"incoming":/g) ?? []).length > before);
    send(callee, { answer: incoming.id });
    const placed = await jsonLine<CallLine>(caller, 'established', (c) => c.direction === 'outgoing' && !caller.stdout.includes(`{"ended":{"id":"${c.id}"`));
    // audio both ways: each side's RTP reaches the other through the NAT (bounded polling of the media figures)
    for (let i = 0; i < 200; i++) {
      send(caller, { media: placed.id });
      send(callee, { media: incoming.id });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const a = await jsonLine<{ id: string; packetsReceived?: number }>(caller, 'media', (m) => m.id === placed.id).catch(() => undefined);
      const b = await jsonLine<{ id: string; packetsReceived?: number }>(callee, 'media', (m) => m.id === incoming.id).catch(() => undefined);
      if ((a?.packetsReceived ?? 0) >= 25 && (b?.packetsReceived ?? 0) >= 25) break;
    }
    if (hangupBy === 'caller') send(caller, { hangup: placed.id });
    else send(callee, { hangup: incoming.id });
    const endedPlaced = await jsonLine<CallLine>(caller, 'ended', (c) => c.id === placed.id);
    const endedReceived = await jsonLine<CallLine>(callee, 'ended', (c) => c.id === incoming.id);
    return { placed: endedPlaced, received: endedReceived };
  }

  it('calls from outside to a terminal and to the whole room, and one from a terminal out, connect with audio; the outside link shows only the public address', async () => {
    const inbound = await callThrough(outside, terminal, `sip:${terminalNumber}@household.lab`, 'callee');
    // ring-all from outside: both terminals ring, the second answers, the first ends "answered elsewhere"
    const t1Incoming = (terminal.stdout.match(/\{"incoming":/g) ?? []).length;
    const ringAll = await callThrough(outside, second, `sip:${room}@household.lab`, 'caller');
    const elsewhere = await jsonLine<CallLine & { answeredElsewhere?: boolean }>(terminal, 'ended', (c) => c.direction === 'incoming' && c.status !== 200);
    expect((terminal.stdout.match(/\{"incoming":/g) ?? []).length).toBe(t1Incoming + 1);
    expect(elsewhere).toMatchObject({ status: 487, answeredElsewhere: true });
    const outbound = await callThrough(terminal, outside, 'sip:ext@outside.lab', 'callee');
    for (const call of [inbound.placed, inbound.received, ringAll.placed, ringAll.received, outbound.placed, outbound.received]) {
      expect(call.status).toBe(200);
      expect(call.media!.packetsReceived).toBeGreaterThanOrEqual(25);
    }
    // the outside phone talked to the public address, and the callee there saw the terminal's full number (¶[55])
    expect(inbound.placed.media!.remoteRtp).toMatch(new RegExp(`^${publicAddress.replace(/\./g, '\\.')}:`));
    expect(outbound.received.remote).toBe(terminalNumber);

    // let the capture take the last packets, then stop it
    const packets = await stopCapture(dump, capture);
    const sip = sipMessages(packets);
    const media = mediaPackets(packets);
    expect(sip.length).toBeGreaterThan(10);
    // IP headers: only the public address and the outside
    const ends = new Set(packets.flatMap((p) => [p.src, p.dst]));
    expect([...ends].sort()).toEqual([publicAddress, outsideAddress]);
    // SIP: no private address anywhere in any message (Via, Record-Route, Contact, SDP included)
    const leaks = sip.filter((m) => /\b10\.77\.\d+\.\d+\b/.test(m.raw));
    expect(leaks.map((m) => m.raw.split('\r\n')[0])).toEqual([]);
    const invites = sip.filter((m) => m.raw.startsWith('INVITE '));
    expect(invites.length).toBeGreaterThanOrEqual(3);
    for (const invite of invites) expect(invite.raw).toMatch(new RegExp(`^Via: SIP/2\\.0/UDP (${publicAddress}|${outsideAddress})`, 'm'));
    const fromBuilding = sip.filter((m) => m.src === publicAddress && /^Content-Type: application\/sdp/im.test(m.raw));
    expect(fromBuilding.length).toBeGreaterThanOrEqual(3); // the terminals' answers and the offer
    for (const message of fromBuilding) {
      expect(message.raw).toMatch(new RegExp(`^c=IN IP4 ${publicAddress.replace(/\./g, '\\.')}\\r?$`, 'm'));
      expect(message.raw).toMatch(new RegExp(`^Contact: .*${publicAddress.replace(/\./g, '\\.')}`, 'm'));
    }
    // RTP both ways on the outside link, the building's side from the public address
    expect(media.filter((p) => p.kind === 'rtp' && p.src === publicAddress).length).toBeGreaterThan(40);
    expect(media.filter((p) => p.kind === 'rtp' && p.dst === publicAddress).length).toBeGreaterThan(40);

    building.process.stdin!.write('snapshot\n');
    const snapshot = await jsonLine<{ hiding: { vias: number; recordRoutes: number; contacts: number; sdp: number; restored: number } }>(building, 'gatekeeper');
    expect(snapshot.hiding.vias).toBeGreaterThan(0);
    expect(snapshot.hiding.recordRoutes).toBeGreaterThan(0);
    expect(snapshot.hiding.restored).toBeGreaterThan(0); // the outside's ACK and BYE found their way back in
  }, 120_000);
});
