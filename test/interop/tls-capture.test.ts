import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mediaPackets } from '../support/capture-scan.js';
import { Child } from '../support/child.js';
import { stopCapture } from '../support/tcpdump-capture.js';
import { NetnsTopology } from '../support/netns-topology.js';
import { readPcap, type CapturedPacket } from '../support/pcap-reader.js';
import { missingRequirements } from '../support/tools.js';
import { projectRoot } from '../support/veilphone-cli.js';

const skip = missingRequirements(['ip', 'tcpdump', 'openssl'], { namespaces: true });

const serverAddress = '2001:db8:15::1';
const callerNet = '2001:db8:1c';
const calleeNet = '2001:db8:1e';
const alice = { user: 'alicewonder', display: 'Alice Liddell', address: `${callerNet}::a11c` };
const bobAddress = `${calleeNet}::b0b`;

/** SIP words an observer would read in cleartext signalling. */
const sipText = /REGISTER |INVITE |SIP\/2\.0|alicewonder|Liddell|sip:bob@/;

/** A 1000 Hz tone sampled at 8 kHz repeats every 8 samples: so does its G.711, byte for byte, in a plain RTP payload. */
function carriesTone(rtpPayload: Buffer): boolean {
  const audio = rtpPayload.subarray(12, 12 + 160);
  return audio.length === 160 && [...audio.subarray(0, 152)].every((byte, i) => byte === audio[i + 8]) && new Set(audio).size > 2;
}

/**
 * Issue 18: what the caller's access link carries during an encrypted call, as tcpdump records it. Three namespaces —
 * the caller, the lab (veilphone lab --tls, its own certificate), the callee — joined by veth pairs; the capture on
 * the caller's link must hold no SIP text and no RTP payload with the G.711 of the tone sent. The same call over TCP
 * without media encryption is the control: there the same scan finds both.
 */
describe.skipIf(skip)('an encrypted call as the caller\'s access link sees it', () => {
  const topology = new NetnsTopology('tls');
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-tls-capture-'));
  let callerIf = '';
  let lab: Child;
  let fingerprint = '';

  const veilphoneIn = (role: string, args: string[]): Child => new Child(topology.spawn(role, process.execPath, [path.join(projectRoot, 'bin/veilphone.js'), ...args], { cwd: projectRoot }));

  beforeAll(async () => {
    topology.add('caller');
    topology.add('server');
    topology.add('callee');
    const toCaller = topology.link('caller', 'server');
    const toCallee = topology.link('callee', 'server');
    callerIf = toCaller.a;
    topology.sysctl('server', 'net.ipv6.conf.all.forwarding', '1');
    topology.exec('server', 'ip', ['-6', 'addr', 'add', `${serverAddress}/128`, 'dev', 'lo']);
    topology.exec('server', 'ip', ['-6', 'addr', 'add', `${callerNet}::1/64`, 'dev', toCaller.b, 'nodad']);
    topology.exec('server', 'ip', ['-6', 'addr', 'add', `${calleeNet}::1/64`, 'dev', toCallee.b, 'nodad']);
    topology.exec('caller', 'ip', ['-6', 'addr', 'add', `${alice.address}/64`, 'dev', callerIf, 'nodad']);
    topology.exec('caller', 'ip', ['-6', 'route', 'add', 'default', 'via', `${callerNet}::1`]);
    topology.exec('callee', 'ip', ['-6', 'addr', 'add', `${bobAddress}/64`, 'dev', toCallee.a, 'nodad']);
    topology.exec('callee', 'ip', ['-6', 'route', 'add', 'default', 'via', `${calleeNet}::1`]);
    lab = veilphoneIn('server', ['--data-dir', path.join(scratch, 'lab'), 'lab', '--address', serverAddress, '--udp', '5060', '--tcp', '5060', '--ws', '8080', '--tls', '5061', '--wss', '8443', '--json']);
    fingerprint = (JSON.parse((await lab.waitFor(/^\{"event":"ready".*\}$/m, 30_000))[0]) as { fingerprint: string }).fingerprint;
  }, 60_000);

  afterAll(async () => {
    await lab?.stop();
    topology.destroy();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  async function capture(file: string): Promise<Child> {
    const child = new Child(topology.spawn('caller', 'tcpdump', ['-i', callerIf, '-n', '-U', '--immediate-mode', '-s', '0', '-w', file]));
    await child.waitFor(/listening on/, 10_000);
    return child;
  }


  /** One call alice → bob with alice playing a 1000 Hz tone; what crossed alice's access link. */
  async function session(name: string, transport: 'tls' | 'tcp'): Promise<CapturedPacket[]> {
    const dir = path.join(scratch, name);
    fs.mkdirSync(dir, { recursive: true });
    const port = transport === 'tls' ? 5061 : 5060;
    const server = `sip:[${serverAddress}]:${port};transport=${transport}`;
    const trust = transport === 'tls' ? `, tls: { fingerprint: "${fingerprint}" }` : '';
    const pcap = path.join(dir, 'access.pcap');
    const dump = await capture(pcap);
    const calleeFile = path.join(dir, 'callee.yaml');
    fs.writeFileSync(calleeFile, [
      'timeout: 2m',
      'agents:',
      `  bob: { user: bob, transport: ${transport}, answer: auto, server: "${server}", address: { mode: fixed, local: "${bobAddress}" }${trust} }`,
      'steps:',
      '  - register: bob',
      '  - expect: { agent: bob, incoming: { count: 1, state: terminated }, within: 90s }',
      '',
    ].join('\n'));
    const callee = veilphoneIn('callee', ['--data-dir', path.join(dir, 'bob'), 'run', calleeFile]);
    await callee.waitFor(/ok +1 register/, 30_000);
    const callerFile = path.join(dir, 'caller.yaml');
    fs.writeFileSync(callerFile, [
      'timeout: 2m',
      'agents:',
      `  alice: { user: ${alice.user}, display: "${alice.display}", transport: ${transport}, server: "${server}", address: { mode: fixed, local: "${alice.address}" }${trust} }`,
      'steps:',
      '  - register: alice',
      '  - call: { from: alice, to: bob, id: c1 }',
      '  - expect: { call: c1, state: established, within: 10s }',
      '  - play: { call: c1, tone: 1000 }',
      '  - expect: { call: c1, rtp: { min_received: 100 }, within: 20s }',
      ...(transport === 'tls' ? ['  - expect: { call: c1, rtp: { encrypted: true } }'] : []),
      '  - hangup: { call: c1 }',
      '  - expect: { call: c1, state: terminated, within: 10s }',
      '',
    ].join('\n'));
    const run = veilphoneIn('caller', ['--data-dir', path.join(dir, 'alice'), 'run', callerFile]);
    expect(await run.exitCode(90_000), `${name} caller:\n${run.stdout}\n${run.stderr}`).toBe(0);
    expect(await callee.exitCode(60_000), `${name} callee:\n${callee.stdout}\n${callee.stderr}`).toBe(0);
    await stopCapture(dump, pcap);
    return readPcap(fs.readFileSync(pcap));
  }

  it('TLS and SRTP: no SIP text and no RTP payload carrying the tone on the access link; the same call in the clear shows both', async () => {
    const secure = await session('tls', 'tls');
    const fromAlice = mediaPackets(secure).filter((m) => m.kind === 'rtp' && m.src === alice.address);
    expect(fromAlice.length).toBeGreaterThanOrEqual(50);
    expect(fromAlice.filter((m) => carriesTone(m.payload))).toEqual([]);
    expect(fromAlice.every((m) => m.payload.length === 12 + 160 + 10)).toBe(true); // every packet carries the 80-bit tag
    const tcp = secure.filter((p) => p.protocol === 'tcp' && p.payload.length > 0);
    expect(tcp.length).toBeGreaterThan(0);
    expect(secure.filter((p) => sipText.test(p.payload.toString('latin1'))).map((p) => p.payload.toString('latin1').slice(0, 60))).toEqual([]);

    const clear = await session('control', 'tcp');
    expect(clear.some((p) => sipText.test(p.payload.toString('latin1')))).toBe(true);
    expect(mediaPackets(clear).filter((m) => m.kind === 'rtp' && m.src === alice.address && carriesTone(m.payload)).length).toBeGreaterThan(50);
  }, 240_000);
});
