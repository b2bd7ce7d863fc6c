import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CallSnapshot, PhoneEvent } from '../../core/api/phone-types.js';
import { defaultMediaProvider } from '../../core/phone/default-media.js';
import { Phone } from '../../core/phone/phone.js';
import type { SipTapEntry } from '../../core/sip/transport/message-tap.js';
import type { Child } from '../support/child.js';
import { freePort } from '../support/free-port.js';
import { KamailioServer } from '../support/kamailio.js';
import { rtpPcap } from '../support/rtp-pcap.js';
import { startSipp } from '../support/sipp.js';
import { missingRequirements } from '../support/tools.js';
import { until } from '../support/until.js';
import { projectRoot, startLabProcess } from '../support/veilphone-cli.js';

const skip = missingRequirements(['sipp', 'kamailio']);
const fixture = (file: string): string => path.join(projectRoot, 'test/fixtures/sipp', file);

interface Server {
  /** The server URIs the phone uses. */
  udp: string;
  tcp: string;
  /** host:port SIPp talks to (UDP). */
  sipp: string;
  stop(): Promise<void>;
}

async function embeddedLab(): Promise<Server> {
  const lab = await startLabProcess();
  return { udp: lab.servers.udp, tcp: lab.servers.tcp, sipp: `127.0.0.1:${lab.udp}`, stop: () => lab.child.stop() };
}

async function kamailio(): Promise<Server> {
  const server = await KamailioServer.start();
  return { udp: server.servers.udp, tcp: server.servers.tcp, sipp: `127.0.0.1:${server.port}`, stop: () => server.stop() };
}

/**
 * RFC 3262 and early media with SIPp as the far end (issue 19 items 4-5): a Veilphone (in this process, real sockets)
 * and SIPp scenarios that require 100rel, through a record-routing proxy that must carry the PRACKs.
 */
describe.skipIf(skip).each([
  ['the embedded lab', embeddedLab],
  ['Kamailio', kamailio],
] as const)('100rel and early media between Veilphone and SIPp through %s', (_name, start) => {
  let server: Server;
  const children: Child[] = [];
  const phones: Phone[] = [];
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-100rel-sipp-'));
  beforeAll(async () => {
    server = await start();
  });
  /** Contact ports SIPp registered for user "sipp": removed after each test, so no later call forks to a dead one. */
  const registered: number[] = [];
  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.shutdown()));
    await Promise.all(children.splice(0).map((c) => c.stop()));
    // A binding left for 120 s would point the next test's call at a port another program may hold by then (its answer,
    // a 403 or a 6xx, can end the call before the live SIPp's early media comes).
    for (const port of registered.splice(0)) {
      const unregister = startSipp({ scenario: 'register.xml', remote: server.sipp, localPort: await freePort(), service: 'sipp', keys: { contact_port: String(port), expires: '0' } });
      expect(await unregister.exitCode(20_000), unregister.stderr).toBe(0);
    }
  });
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  function phone(user: string, transport: 'udp' | 'tcp', answer?: { kind: 'auto'; delayMs: number }, trace?: SipTapEntry[]): { phone: Phone; events: PhoneEvent[] } {
    const events: PhoneEvent[] = [];
    const created = new Phone({
      accounts: [{ id: user, user, server: server[transport], transport, ...(answer ? { answer } : {}) }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      ...(trace ? { onTrace: (_account: string, entry: SipTapEntry) => void trace.push(entry) } : {}),
    });
    created.subscribe((e) => events.push(e));
    phones.push(created);
    return { phone: created, events };
  }

  const snapshots = (events: PhoneEvent[], id: string): CallSnapshot[] =>
    events.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === id).map((e) => e.call);

  it.each(['udp', 'tcp'] as const)('calls a SIPp callee that requires 100rel over %s: PRACKs its reliable 180 and 183, plays its early media before the 200', async (transport) => {
    const pcap = path.join(scratch, 'announcement.pcap');
    fs.writeFileSync(pcap, rtpPcap({ toneHz: 1000, toneMs: 3000, digits: '', dtmfPt: 101 }));
    const scenario = path.join(scratch, 'uas-100rel-early-media.xml');
    fs.writeFileSync(scenario, fs.readFileSync(fixture('uas-100rel-early-media.xml'), 'utf8').replaceAll('PCAP_FILE', pcap));
    const uasPort = await freePort();
    const mediaPort = await freePort();
    const uas = startSipp({ scenario, localPort: uasPort, mediaPort });
    children.push(uas);
    const register = startSipp({ scenario: 'register.xml', remote: server.sipp, localPort: await freePort(), service: 'sipp', keys: { contact_port: String(uasPort), expires: '120' } });
    expect(await register.exitCode(20_000), register.stderr).toBe(0);
    registered.push(uasPort);

    const { phone: alice, events } = phone('alice', transport);
    await alice.register();
    // What the phone had heard when the 200 arrived: read as the call becomes established, before anything else runs.
    let atAnswer: { packetsReceived: number; toneShare: number } | undefined;
    alice.subscribe((e) => {
      if (e.type !== 'call' || e.call.state !== 'established' || atAnswer) return;
      const media = alice.mediaOf(e.call.id);
      atAnswer = { packetsReceived: media?.stats().packetsReceived ?? 0, toneShare: media?.recent.toneShare(1000) ?? 0 };
    });
    const call = await alice.call({ target: 'sipp' });
    const early = await until(() => snapshots(events, call.id).find((s) => s.earlyMedia === true), 20_000);
    expect(early.state).toBe('ringing');
    await until(() => atAnswer, 20_000);
    expect(atAnswer!.packetsReceived).toBeGreaterThan(20);
    expect(atAnswer!.toneShare).toBeGreaterThan(0.8);
    expect(snapshots(events, call.id).at(-1)).toMatchObject({ state: 'established' });
    // The 200 named another media port than the 183: the stream follows the 200.
    await until(() => alice.mediaOf(call.id)?.stats().remoteRtp === `127.0.0.1:${mediaPort + 2}`);
    await alice.hangup(call.id);
    expect(await uas.exitCode(30_000), `SIPp: ${uas.stdout.slice(-2000)}\n${uas.stderr}`).toBe(0);
  });

  it.each(['udp', 'tcp'] as const)('answers a SIPp caller that requires 100rel over %s with a reliable 180 it PRACKs, then 200', async (transport) => {
    const { phone: bob, events } = phone('bob', transport, { kind: 'auto', delayMs: 300 });
    await bob.register();
    const uac = startSipp({ scenario: fixture('uac-require-100rel.xml'), remote: server.sipp, localPort: await freePort(), service: 'bob', mediaPort: await freePort() });
    children.push(uac);
    expect(await uac.exitCode(30_000), `SIPp: ${uac.stdout.slice(-2000)}\n${uac.stderr}`).toBe(0);
    const ended = await until(() => events.find((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.state === 'terminated'));
    expect(ended.call).toMatchObject({ direction: 'incoming', status: 200, endedBy: 'remote' });
  });

  it('answers an anonymous SIPp caller (184) that requires 100rel: its PRACK of the early dialog comes through, anonymous', async () => {
    const trace: SipTapEntry[] = [];
    const { phone: bob, events } = phone('bob', 'udp', { kind: 'auto', delayMs: 300 }, trace);
    await bob.register();
    const uac = startSipp({ scenario: fixture('uac-require-100rel.xml'), remote: server.sipp, localPort: await freePort(), service: '184bob', mediaPort: await freePort() });
    children.push(uac);
    expect(await uac.exitCode(30_000), `SIPp: ${uac.stdout.slice(-2000)}\n${uac.stderr}`).toBe(0);
    await until(() => events.find((e) => e.type === 'call' && e.call.state === 'terminated'));
    const prack = trace.find((e) => e.dir === 'in' && e.raw.startsWith('PRACK '))!.raw;
    expect(prack).toMatch(/^From: "Anonymous" <sip:Anonymous\d+@/m);
    expect(prack).not.toMatch(/sipp@/i);
  });
});
