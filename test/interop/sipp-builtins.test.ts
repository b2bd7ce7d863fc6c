import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AccountConfig, CallSnapshot, PhoneEvent } from '../../core/api/phone-types.js';
import { defaultMediaProvider } from '../../core/phone/default-media.js';
import { Phone } from '../../core/phone/phone.js';
import { Lab } from '../../lab/lab.js';
import { Child } from '../support/child.js';
import { freePort } from '../support/free-port.js';
import { KamailioServer } from '../support/kamailio.js';
import { sippListening, sippOutput, startSipp } from '../support/sipp.js';
import { missingRequirements } from '../support/tools.js';
import { until } from '../support/until.js';

const skip = missingRequirements(['sipp', 'kamailio']);

type Placement = 'direct' | 'lab' | 'kamailio';
type Transport = 'udp' | 'tcp';

/** Where SIPp's built-in uac_pcap finds its pcap files (it names them `pcap/…` relative to its working directory). */
const sippPcaps = '/usr/share/sip-tester';
/** RTP packets in SIPp's g711a.pcap and dtmf_2833_1.pcap, which uac_pcap plays, with different SSRCs. */
const pcapPackets = 236 + 10;

/**
 * Issue 19, "Real peers in CI": SIPp's built-in scenarios, unmodified (`-sn`), against a Veilphone phone directly
 * (SIPp calls its Contact; the phone calls SIPp as its only server), through the embedded lab and through Kamailio
 * (deploy/kamailio), over UDP and TCP. The built-in uac and uac_pcap ignore Record-Route: their ACK and BYE go to the
 * address-of-record they called, which the lab and Kamailio must retarget to the phone.
 */
describe.skipIf(skip)("SIPp's built-in scenarios and a Veilphone phone", () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** The server of a placement: its URI for the phone and its `host:port` for SIPp. */
  async function server(placement: Exclude<Placement, 'direct'>, transport: Transport): Promise<{ uri: string; domain?: string; sipp: string }> {
    if (placement === 'lab') {
      const lab = await Lab.start();
      cleanup.push(() => lab.stop());
      const uri = lab.servers[transport]!;
      return { uri, domain: lab.domain, sipp: /^sip:([^;]+)/.exec(uri)![1]! };
    }
    const kamailio = await KamailioServer.start();
    cleanup.push(() => kamailio.stop());
    return { uri: kamailio.servers[transport], sipp: `127.0.0.1:${kamailio.port}` };
  }

  async function phone(account: Partial<AccountConfig> & Pick<AccountConfig, 'server' | 'transport'>): Promise<{ phone: Phone; events: PhoneEvent[] }> {
    const bob = new Phone({
      accounts: [{ id: 'bob', user: 'bob', answer: { kind: 'auto' }, ...account }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
    });
    cleanup.push(() => bob.shutdown());
    const events: PhoneEvent[] = [];
    bob.subscribe((e) => events.push(e));
    return { phone: bob, events };
  }

  /** SIPp with a built-in scenario, in a scratch directory where `pcap/` holds its pcap files. */
  async function builtin(name: 'uac' | 'uas' | 'uac_pcap', transport: Transport, options: { remote?: string; localPort?: number; service?: string } = {}): Promise<Child> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-sipp-'));
    fs.symlinkSync(sippPcaps, path.join(dir, 'pcap'));
    const localPort = options.localPort ?? (await freePort());
    const args = [
      ...(options.remote ? [options.remote] : []),
      '-sn', name,
      '-i', '127.0.0.1',
      '-p', String(localPort),
      '-mp', String(await freePort()),
      '-t', transport === 'udp' ? 'u1' : 't1',
      '-m', '1',
      '-timeout', '40s', '-timeout_error', '-nostdin', '-trace_err',
      ...(options.service ? ['-s', options.service] : []),
    ];
    const child = Child.start('sipp', args, { cwd: dir });
    cleanup.push(() => child.stop());
    if (name === 'uas' && transport === 'tcp') await sippListening(localPort, child);
    return child;
  }

  const ended = (events: PhoneEvent[]): CallSnapshot | undefined => events.flatMap((e) => (e.type === 'call' && e.call.state === 'terminated' ? [e.call] : []))[0];

  /** SIPp's uac or uac_pcap calls bob: at his Contact (direct), or his address-of-record at the lab or Kamailio. */
  async function sippCalls(name: 'uac' | 'uac_pcap', placement: Placement, transport: Transport): Promise<CallSnapshot> {
    let remote: string;
    let events: PhoneEvent[];
    if (placement === 'direct') {
      // the phone registers with a lab only to have a Contact; SIPp calls that Contact itself
      const lab = await server('lab', transport);
      const bob = await phone({ server: lab.uri, transport, ...(lab.domain ? { domain: lab.domain } : {}), directCalls: true });
      events = bob.events;
      remote = /@([^;>]+)/.exec((await bob.phone.register()).contact!)![1]!;
    } else {
      const at = await server(placement, transport);
      const bob = await phone({ server: at.uri, transport, ...(at.domain ? { domain: at.domain } : {}) });
      events = bob.events;
      await bob.phone.register();
      remote = at.sipp;
    }
    const sipp = await builtin(name, transport, { remote, service: 'bob' });
    expect(await sipp.exitCode(60_000), sippOutput(sipp)).toBe(0);
    const call = await until(() => ended(events), 10_000);
    expect(call).toMatchObject({ direction: 'incoming', status: 200, endedBy: 'remote' });
    return call;
  }

  describe.each(['direct', 'lab', 'kamailio'] as const)('%s', (placement) => {
    it.each(['udp', 'tcp'] as const)('-sn uac calls the phone over %s; its ACK and BYE reach it', async (transport) => {
      await sippCalls('uac', placement, transport);
    });

    it.each(['udp', 'tcp'] as const)('-sn uac_pcap calls the phone over %s; every RTP packet it plays is counted, across its SSRC change (item 12)', async (transport) => {
      const call = await sippCalls('uac_pcap', placement, transport);
      expect(call.media?.packetsReceived).toBeGreaterThanOrEqual(Math.floor(pcapPackets * 0.95));
      expect(call.media?.packetsReceived).toBeLessThanOrEqual(pcapPackets);
    });

    it.each(['udp', 'tcp'] as const)('the phone calls -sn uas over %s and hangs up', async (transport) => {
      const uasPort = await freePort();
      const uas = await builtin('uas', transport, { localPort: uasPort });
      let events: PhoneEvent[];
      let bob: Phone;
      let target: string;
      if (placement === 'direct') {
        // SIPp's uas is the phone's only server: the INVITE goes straight to it
        ({ phone: bob, events } = await phone({ server: `sip:127.0.0.1:${uasPort};transport=${transport}`, transport, domain: '127.0.0.1' }));
        target = `sip:service@127.0.0.1:${uasPort}`;
      } else {
        const at = await server(placement, transport);
        // the uas is reached through the server: registered there as "sipp" with a Contact on its port
        const register = startSipp({ scenario: 'register.xml', remote: at.sipp, localPort: await freePort(), service: 'sipp', transport: transport === 'udp' ? 'u1' : 't1', keys: { contact_port: String(uasPort), expires: '120' } });
        cleanup.push(() => register.stop());
        expect(await register.exitCode(30_000), sippOutput(register)).toBe(0);
        ({ phone: bob, events } = await phone({ server: at.uri, transport, ...(at.domain ? { domain: at.domain } : {}) }));
        await bob.register();
        target = 'sipp';
      }
      const placed = await bob.call({ target });
      await until(() => events.some((e) => e.type === 'call' && e.call.id === placed.id && e.call.state === 'established') || undefined, 15_000);
      await bob.hangup(placed.id);
      expect(await uas.exitCode(60_000), sippOutput(uas)).toBe(0);
      expect(await until(() => ended(events))).toMatchObject({ direction: 'outgoing', status: 200, endedBy: 'local' });
    });
  });

  // -sn uas answers with an SDP and sends no RTP or RTCP: a far end gone quiet, as a dead one is. The phone's media
  // timeout ends the call with a BYE the uas takes (it exits 0 only once its BYE came and was answered).
  it('a call to -sn uas, which sends no media, is ended by the media timeout with a BYE SIPp takes', async () => {
    const uasPort = await freePort();
    const uas = await builtin('uas', 'udp', { localPort: uasPort });
    const { phone: bob, events } = await phone({ server: `sip:127.0.0.1:${uasPort}`, transport: 'udp', domain: '127.0.0.1', mediaTimeout: { seconds: 2 } });
    const placed = await bob.call({ target: `sip:service@127.0.0.1:${uasPort}` });
    await until(() => events.some((e) => e.type === 'call' && e.call.id === placed.id && e.call.state === 'established') || undefined, 15_000);
    expect(await uas.exitCode(30_000), sippOutput(uas)).toBe(0);
    const call = await until(() => ended(events));
    expect(call).toMatchObject({ direction: 'outgoing', status: 200, endedBy: 'network', endCause: { kind: 'no-media', seconds: 2 } });
    expect(call.endedAt! - call.answeredAt!).toBeGreaterThanOrEqual(2000);
    expect(call.media?.packetsReceived).toBe(0);
  });
});
