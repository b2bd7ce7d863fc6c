import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LabDhcpServer, type LabDhcpServerOptions } from '../../lab/service-gateway/dhcp-server.js';
import { decodeDhcpMessage, dhcpMessage, encodeDhcpMessage, parseHardwareAddress, type DhcpMessage } from './dhcp-message.js';
import type { DhcpOptions } from './dhcp-options.js';
import { LeaseClient, type LeaseClientOptions, type LeaseEvent } from './lease-client.js';
import { LeaseError } from './lease-error.js';
import { FileLeaseStore, MemoryLeaseStore } from './lease-store.js';
import { UdpLeaseTransport, type LeaseTransport } from './lease-transport.js';
import { until } from '../../test/support/until.js';

const fast = { initialWaitMs: 60, maxWaitMs: 200, jitterMs: 20, maxDiscoverRounds: 4, requestAttempts: 3, minRenewWaitMs: 20, secondMs: 1000 };
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function labOptions(extra: Partial<LabDhcpServerOptions> = {}): LabDhcpServerOptions {
  return {
    serverId: '10.77.0.1',
    pool: { first: '10.77.0.10', last: '10.77.0.20' },
    subnetMask: '255.255.255.0',
    router: '10.77.0.1',
    vendorClasses: { 'Veilphone-1': 20, 'Veilphone-4': 80 },
    mgc: [
      { address: '10.77.0.5', port: 5060 },
      { address: '10.77.0.6', port: 5060 },
    ],
    natAddress: '198.51.100.7',
    tftp: { server: '10.77.0.1', bootFile: 'veilphone.cfg' },
    ...extra,
  };
}

async function lab(extra: Partial<LabDhcpServerOptions> = {}): Promise<LabDhcpServer> {
  const server = await LabDhcpServer.start(labOptions(extra));
  cleanups.push(() => server.stop());
  return server;
}

let macCounter = 1;
async function client(server: { address: string; port: number }, extra: Partial<LeaseClientOptions> = {}): Promise<{ client: LeaseClient; events: LeaseEvent[] }> {
  const transport = extra.transport ?? (await UdpLeaseTransport.loopback(server));
  const c = new LeaseClient({
    transport,
    hardwareAddress: parseHardwareAddress(`02:00:5e:00:00:${(macCounter++).toString(16).padStart(2, '0')}`),
    vendorClass: 'Veilphone-1',
    timing: fast,
    ...extra,
  });
  const events: LeaseEvent[] = [];
  c.on((e) => events.push(e));
  cleanups.push(() => c.stop());
  return { client: c, events };
}

/** A scripted DHCP server: `answer` gets each decoded request and returns replies (messages or raw bytes). */
async function fakeServer(answer: (request: DhcpMessage, n: number) => Array<DhcpMessage | Buffer>): Promise<{ address: string; port: number; requests: DhcpMessage[] }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  const requests: DhcpMessage[] = [];
  socket.on('message', (packet, rinfo) => {
    const request = decodeDhcpMessage(packet);
    requests.push(request);
    for (const reply of answer(request, requests.length)) socket.send(Buffer.isBuffer(reply) ? reply : encodeDhcpMessage(reply), rinfo.port, rinfo.address);
  });
  return { address: '127.0.0.1', port: socket.address().port, requests };
}

/** The lab's loopback transport to `server`, passed off as a network link's (whose servers never lease 127.x). */
async function networkLink(server: { address: string; port: number }): Promise<LeaseTransport> {
  const inner = await UdpLeaseTransport.loopback(server);
  return { broadcast: (p) => inner.broadcast(p), unicast: (p, a) => inner.unicast(p, a), onPacket: (h) => inner.onPacket(h), close: () => inner.close() };
}

function reply(request: DhcpMessage, type: 'OFFER' | 'ACK' | 'NAK', options: DhcpOptions = {}): DhcpMessage {
  const full: DhcpOptions =
    type === 'NAK'
      ? { messageType: 'NAK', serverId: '10.9.0.1' }
      : { messageType: type, serverId: '10.9.0.1', leaseTime: 600, portRange: { min: 30000, max: 30009 }, mgc: [{ address: '10.9.0.5', port: 5060 }], ...options };
  for (const [k, v] of Object.entries(full)) if (v === undefined) delete (full as Record<string, unknown>)[k];
  return dhcpMessage({ op: 2, xid: request.xid, chaddr: request.chaddr, yiaddr: type === 'NAK' ? '0.0.0.0' : '10.9.0.33', options: full });
}

function states(events: LeaseEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'state' ? [e.to] : []));
}


describe('LeaseClient against the lab DHCP server (seed 003 Figs. 5A/5B)', () => {
  it('DISCOVER → OFFER → REQUEST → ACK: BOUND with the port range, MGCs, NAT and TFTP options', async () => {
    const server = await lab();
    const { client: c, events } = await client(server.endpoint);
    const lease = await c.start();
    expect(states(events)).toEqual(['SELECTING', 'REQUESTING', 'BOUND']);
    expect(lease).toMatchObject({
      source: 'dhcp',
      address: '10.77.0.10',
      subnetMask: '255.255.255.0',
      serverId: '10.77.0.1',
      mgc: [
        { address: '10.77.0.5', port: 5060 },
        { address: '10.77.0.6', port: 5060 },
      ],
      natAddress: '198.51.100.7',
      tftpServer: '10.77.0.1',
      bootFile: 'veilphone.cfg',
      leaseSeconds: 3600,
    });
    expect(lease.portRange.max - lease.portRange.min + 1).toBe(20);
    expect(c.counters.sent).toEqual({ DISCOVER: 1, REQUEST: 1 });
    expect(server.counters.replies).toEqual({ OFFER: 1, ACK: 1 });
    expect(server.leases()).toMatchObject([{ state: 'bound', address: '10.77.0.10', vendorClass: 'Veilphone-1' }]);
  });

  it('gives each vendor class its range size, disjoint between phones', async () => {
    const server = await lab();
    const leases = [];
    for (const vendorClass of ['Veilphone-1', 'Veilphone-4', 'Veilphone-1', 'Veilphone-4']) leases.push(await (await client(server.endpoint, { vendorClass })).client.start());
    expect(leases.map((l) => l.portRange.max - l.portRange.min + 1)).toEqual([20, 80, 20, 80]);
    const sorted = leases.map((l) => l.portRange).sort((a, b) => a.min - b.min);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.min).toBeGreaterThan(sorted[i - 1]!.max);
    expect(new Set(leases.map((l) => l.address)).size).toBe(4);
  });

  it('a wrong vendor class gets no offer: bounded, jittered rediscovery, then FAILED with NO_USABLE_OFFER', async () => {
    const server = await lab();
    const { client: c, events } = await client(server.endpoint, { vendorClass: 'Acme-Phone' });
    const error = await c.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeaseError);
    expect((error as LeaseError).code).toBe('NO_USABLE_OFFER');
    expect((error as LeaseError).message).toContain('no offer at all');
    expect(c.state).toBe('FAILED');
    const rounds = events.filter((e): e is Extract<LeaseEvent, { type: 'discover' }> => e.type === 'discover');
    expect(rounds.map((r) => r.round)).toEqual([1, 2, 3, 4]);
    // RFC 2131 §4.1: doubling waits, each within ± jitter, never above the cap + jitter
    rounds.forEach((r, i) => {
      const base = Math.min(fast.maxWaitMs, fast.initialWaitMs * 2 ** i);
      expect(r.waitMs).toBeGreaterThanOrEqual(base - fast.jitterMs);
      expect(r.waitMs).toBeLessThanOrEqual(base + fast.jitterMs);
    });
    expect(c.counters.sent.DISCOVER).toBe(4);
    expect(server.counters.ignored['vendor class "Acme-Phone" is not served']).toBe(4);
    expect(events.at(-1)).toMatchObject({ type: 'failed', code: 'NO_USABLE_OFFER' });
  });

  it('a hardware address outside the allowed range gets no offer (Fig. 5A 510)', async () => {
    const server = await lab({ allowedClients: { hardwarePrefixes: ['02:00:5f'] } });
    const { client: c } = await client(server.endpoint, { timing: { ...fast, maxDiscoverRounds: 1 } });
    await expect(c.start()).rejects.toMatchObject({ code: 'NO_USABLE_OFFER' });
    expect(Object.keys(server.counters.ignored)[0]).toMatch(/is not allowed/);
  });

  it('T1 renews with the leasing server; with no server it rebinds at T2, then the lease expires and discovery restarts', async () => {
    const server = await lab({ leaseSeconds: 8, renewalSeconds: 2, rebindingSeconds: 5, secondMs: 40 });
    const { client: c, events } = await client(server.endpoint, { timing: { ...fast, secondMs: 40, maxDiscoverRounds: 0 } });
    const first = await c.start();
    await until(() => events.some((e) => e.type === 'bound' && e.renewed));
    expect(states(events).slice(0, 5)).toEqual(['SELECTING', 'REQUESTING', 'BOUND', 'RENEWING', 'BOUND']);
    expect(c.lease!.expiresAt).toBeGreaterThan(first.expiresAt);
    const port = server.endpoint.port;
    await server.stop();
    await until(() => events.some((e) => e.type === 'expired'), 8000);
    const after = states(events).slice(5);
    expect(after.slice(0, 3)).toEqual(['RENEWING', 'REBINDING', 'INIT']);
    expect(c.lease).toBeUndefined();
    await until(() => c.state === 'SELECTING');
    // the server comes back on the same port: the client's rediscovery finds it
    const again = await LabDhcpServer.start({ ...labOptions(), port });
    cleanups.push(() => again.stop());
    await until(() => c.state === 'BOUND', 8000);
    expect(c.lease?.address).toBe('10.77.0.10');
  });

  // helper 73: a lease that ran out mid-call left the call up and the binding at the registrar, pointing at an address
  // the DHCP server could give another host. What runs on the address is now ended before it goes (RFC 2131 §4.4.5).
  it('before an expiring lease goes, its beforeLoss action runs while the address is still on the interface, before expiry', async () => {
    const server = await lab({ leaseSeconds: 8, renewalSeconds: 2, rebindingSeconds: 5, secondMs: 100 });
    const order: string[] = [];
    const applier = { apply: async () => void order.push('applied'), remove: async () => void order.push('removed') };
    const { client: c, events } = await client(server.endpoint, { applier, timing: { ...fast, secondMs: 100, maxDiscoverRounds: 0, relinquishMs: 1000 } });
    const lease = await c.start();
    let ranAt = 0;
    let expiresAt = 0;
    c.beforeLoss(async (lost, reason) => {
      ranAt = Date.now();
      expiresAt = lost.expiresAt;
      order.push(`action (${lost.address}: ${reason}, state ${c.state})`);
      await new Promise((resolve) => setTimeout(resolve, 50)); // an unregister's round trip
      order.push('action done');
    });
    await server.stop();
    await until(() => events.some((e) => e.type === 'expired'), 8000);
    await until(() => order.includes('removed') || undefined, 3000);
    expect(order).toEqual(['applied', `action (${lease.address}: lease expired, state REBINDING)`, 'action done', 'removed']);
    expect(ranAt).toBeLessThan(expiresAt); // rebinding stopped short of expiry to leave it time
    await c.stop({ release: false });
  });

  it('a beforeLoss action that hangs delays giving the address up by relinquishMs at most', async () => {
    const server = await lab({ leaseSeconds: 8, renewalSeconds: 2, rebindingSeconds: 5, secondMs: 100 });
    const order: string[] = [];
    const { client: c } = await client(server.endpoint, { applier: { apply: async () => undefined, remove: async () => void order.push('removed') }, timing: { ...fast, secondMs: 100, maxDiscoverRounds: 0, relinquishMs: 300 } });
    await c.start();
    let began = 0;
    c.beforeLoss(() => {
      began = Date.now();
      return new Promise(() => undefined);
    });
    await server.stop();
    await until(() => order.includes('removed') || undefined, 8000);
    expect(Date.now() - began).toBeLessThan(1000);
    await c.stop({ release: false });
  });

  it('RELEASE on stop: the server frees the lease; the next start asks for the same address again', async () => {
    const server = await lab();
    const store = new MemoryLeaseStore();
    const hardwareAddress = parseHardwareAddress('02:00:5e:aa:00:01');
    const first = await client(server.endpoint, { store, hardwareAddress });
    const lease = await first.client.start();
    // another phone takes the next address meanwhile
    await (await client(server.endpoint)).client.start();
    await first.client.stop();
    expect(first.events.some((e) => e.type === 'released')).toBe(true);
    await until(() => server.leases().find((l) => l.address === lease.address)?.state === 'released');
    expect(store.load()?.released).toBe(true);
    const second = await client(server.endpoint, { store, hardwareAddress });
    const again = await second.client.start();
    expect(states(second.events)[0]).toBe('SELECTING');
    expect(again.address).toBe(lease.address);
  });

  it('an unreleased stored lease is reused: INIT-REBOOT → REBOOTING → BOUND, from a file in the data dir', async () => {
    const server = await lab();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-lease-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const hardwareAddress = parseHardwareAddress('02:00:5e:bb:00:01');
    const first = await client(server.endpoint, { store: new FileLeaseStore(dir), hardwareAddress });
    const lease = await first.client.start();
    await first.client.stop({ release: false });
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'lease.json'), 'utf8'))).toMatchObject({ version: 1, released: false, lease: { address: lease.address } });
    const second = await client(server.endpoint, { store: new FileLeaseStore(dir), hardwareAddress });
    const again = await second.client.start();
    expect(states(second.events)).toEqual(['INIT_REBOOT', 'REBOOTING', 'BOUND']);
    expect(second.client.counters.sent).toEqual({ REQUEST: 1 });
    expect(again).toMatchObject({ source: 'dhcp', address: lease.address, portRange: lease.portRange });
  });

  it('a stored lease of another vendor class is not reused', async () => {
    const server = await lab();
    const store = new MemoryLeaseStore();
    const hardwareAddress = parseHardwareAddress('02:00:5e:cc:00:01');
    const first = await client(server.endpoint, { store, hardwareAddress });
    await first.client.start();
    await first.client.stop({ release: false });
    const second = await client(server.endpoint, { store, hardwareAddress, vendorClass: 'Veilphone-4' });
    await second.client.start();
    expect(states(second.events)[0]).toBe('SELECTING');
  });

  it('counts an address the applier cannot take off the interface, tells the first, and still stops', async () => {
    const server = await lab();
    const applied: string[] = [];
    const applier = { apply: async (l: { address: string }) => void applied.push(l.address), remove: async () => Promise.reject(new Error('RTNETLINK answers: Operation not permitted')) };
    const { client: c, events } = await client(server.endpoint, { applier });
    const lease = await c.start();
    await c.stop();
    expect(applied).toEqual([lease.address]);
    expect(c.counters.addressNotRemoved).toBe(1);
    expect(events.filter((e) => e.type === 'address-not-removed')).toEqual([{ type: 'address-not-removed', address: lease.address, message: expect.stringContaining('Operation not permitted') }]);
    expect(c.snapshot().state).toBe('STOPPED');
  });

  it('RELEASE reaches the server even for a client that never renewed', async () => {
    const server = await lab();
    const { client: c } = await client(server.endpoint);
    await c.start();
    await c.stop();
    await until(() => (server.counters.received.RELEASE ?? 0) === 1);
  });
});

describe('LeaseClient against scripted servers', () => {
  it('ignores an offer missing a required option (Fig. 5A 518/520) and binds to the next usable one', async () => {
    const server = await fakeServer((request, n) => {
      if (request.options.messageType === 'DISCOVER') return n === 1 ? [reply(request, 'OFFER', { portRange: undefined })] : [reply(request, 'OFFER')];
      return [reply(request, 'ACK')];
    });
    const { client: c, events } = await client(server);
    const lease = await c.start();
    const ignored = events.find((e) => e.type === 'offer-ignored');
    expect(ignored).toMatchObject({ missing: ['portRange (224)'] });
    expect(c.counters.ignoredOffers).toBe(1);
    expect(states(events)).toEqual(['SELECTING', 'SELECTING', 'REQUESTING', 'BOUND']);
    expect(lease.portRange).toEqual({ min: 30000, max: 30009 });
  });

  it('insists on options the phone was configured to require (NAT address)', async () => {
    const server = await fakeServer((request) => (request.options.messageType === 'DISCOVER' ? [reply(request, 'OFFER')] : []));
    const { client: c, events } = await client(server, { requiredOptions: ['natAddress'], timing: { ...fast, maxDiscoverRounds: 2 } });
    await expect(c.start()).rejects.toMatchObject({ code: 'NO_USABLE_OFFER', message: expect.stringContaining('2 of 2 offers lacked') });
    expect(events.filter((e) => e.type === 'offer-ignored')).toHaveLength(2);
  });

  it('ignores an offer whose port range is too small to hold SIP and one RTP pair', async () => {
    const server = await fakeServer((request) => (request.options.messageType === 'DISCOVER' ? [reply(request, 'OFFER', { portRange: { min: 30000, max: 30001 } })] : []));
    const { client: c, events } = await client(server, { timing: { ...fast, maxDiscoverRounds: 1 } });
    await expect(c.start()).rejects.toMatchObject({ code: 'NO_USABLE_OFFER' });
    expect(events.find((e) => e.type === 'offer-ignored')).toMatchObject({ missing: ['portRange of at least 3 ports'] });
  });

  // The outsider's fake server (helper 73): yiaddr 127.0.0.1 and 255.255.255.255 went onto the interface, with a
  // 127.0.0.0/24 route; a 0 s lease and ports 1-3 were asked for (RFC 1122 §3.2.1.3, RFC 6335 §6)
  it.each([
    ['a loopback address', { yiaddr: '127.0.0.1' }, /yiaddr: 127\.0\.0\.1 is a loopback address/],
    ['the limited broadcast address', { yiaddr: '255.255.255.255' }, /multicast, reserved or broadcast/],
    ['a multicast address', { yiaddr: '224.0.0.1' }, /multicast/],
    ['"this network"', { yiaddr: '0.1.2.3' }, /this network/],
    ["its subnet's broadcast address", { yiaddr: '10.9.0.255', subnetMask: '255.255.255.0' }, /broadcast address of its subnet/],
    ["its subnet's network address", { yiaddr: '10.9.0.0', subnetMask: '255.255.255.0' }, /network address of its subnet/],
    ['a lease of 0 s', { leaseTime: 0 }, /leaseTime \(51\) above 0 s/],
    ['system ports (1-3)', { portRange: { min: 1, max: 3 } }, /portRange above 1023/],
  ] as const)('ignores an offer of %s, and an ACK of one is not bound either', async (_, change, why) => {
    const { yiaddr, ...options } = { yiaddr: undefined as string | undefined, ...change };
    const bad = (request: DhcpMessage, type: 'OFFER' | 'ACK'): DhcpMessage => {
      const message = reply(request, type, options as DhcpOptions);
      return yiaddr !== undefined ? { ...message, yiaddr } : message;
    };
    const server = await fakeServer((request) => (request.options.messageType === 'DISCOVER' ? [bad(request, 'OFFER')] : [bad(request, 'ACK')]));
    const { client: c, events } = await client(server, { transport: await networkLink(server), timing: { ...fast, maxDiscoverRounds: 1 } });
    await expect(c.start()).rejects.toMatchObject({ code: 'NO_USABLE_OFFER' });
    expect(events.find((e) => e.type === 'offer-ignored')).toMatchObject({ missing: [expect.stringMatching(why)] });
    // a server that offers a good lease but ACKs a bad one: the ACK is refused (counted), nothing is bound
    const tricky = await fakeServer((request) => (request.options.messageType === 'DISCOVER' ? [reply(request, 'OFFER')] : [bad(request, 'ACK')]));
    const second = await client(tricky, { transport: await networkLink(tricky), timing: { ...fast, maxDiscoverRounds: 1, requestAttempts: 2 } });
    await expect(second.client.start()).rejects.toMatchObject({ code: 'NO_USABLE_OFFER' });
    expect(states(second.events)).not.toContain('BOUND');
    expect(second.events.some((e) => e.type === 'rejected')).toBe(true);
  });

  // review: an ACK to a renewal that failed the checks was thrown out of the renewal loop: the client went FAILED,
  // and the lease's address stayed on the interface past its expiry
  it('a renewal answered by an ACK that fails the checks is counted, and the lease runs out as if unanswered', async () => {
    const server = await fakeServer((request) => {
      if (request.options.messageType === 'DISCOVER') return [reply(request, 'OFFER', { leaseTime: 8 })];
      if (request.ciaddr === '0.0.0.0') return [reply(request, 'ACK', { leaseTime: 8 })];
      return [{ ...reply(request, 'ACK', { leaseTime: 8 }), yiaddr: '127.0.0.1' }]; // the renewal's
    });
    const { client: c, events } = await client(server, { transport: await networkLink(server), timing: { ...fast, secondMs: 100, maxDiscoverRounds: 0, relinquishMs: 100 } });
    await c.start();
    await until(() => events.some((e) => e.type === 'expired'), 5000);
    expect(states(events)).not.toContain('FAILED');
    expect(states(events).slice(2, 6)).toEqual(['BOUND', 'RENEWING', 'REBINDING', 'INIT']);
    expect(events.some((e) => e.type === 'rejected' && /host address/.test(e.reason))).toBe(true);
  });

  it("takes a loopback address from a server on loopback (the embedded lab's household gateway leases 127.77.x)", async () => {
    const server = await fakeServer((request) => [{ ...reply(request, request.options.messageType === 'DISCOVER' ? 'OFFER' : 'ACK'), yiaddr: '127.77.0.5' }]);
    const { client: c } = await client(server);
    expect((await c.start()).address).toBe('127.77.0.5');
  });

  it('a NAK restarts the negotiation from INIT', async () => {
    let requests = 0;
    const server = await fakeServer((request) => {
      if (request.options.messageType === 'DISCOVER') return [reply(request, 'OFFER')];
      return ++requests === 1 ? [reply(request, 'NAK')] : [reply(request, 'ACK')];
    });
    const { client: c, events } = await client(server);
    await c.start();
    expect(states(events)).toEqual(['SELECTING', 'REQUESTING', 'INIT', 'SELECTING', 'REQUESTING', 'BOUND']);
    expect(events.some((e) => e.type === 'nak')).toBe(true);
    expect(c.counters.naks).toBe(1);
  });

  it('repeated NAKs back off before rediscovering, and give up within the round budget', async () => {
    const server = await fakeServer((request) => [reply(request, request.options.messageType === 'DISCOVER' ? 'OFFER' : 'NAK')]);
    const { client: c, events } = await client(server);
    await expect(c.start()).rejects.toMatchObject({ code: 'NO_USABLE_OFFER', message: expect.stringContaining('4 NAKs') });
    expect(events.filter((e) => e.type === 'backoff')).toHaveLength(3);
  });

  it('counts and survives garbage, truncated and malformed replies, then binds', async () => {
    const server = await fakeServer((request) => {
      if (request.options.messageType !== 'DISCOVER') return [reply(request, 'ACK')];
      const good = encodeDhcpMessage(reply(request, 'OFFER'));
      const short = reply(request, 'OFFER', { portRange: undefined });
      short.unknown.set(224, Buffer.from([0x75, 0x30, 0x75])); // a port range of 3 bytes
      const badLength = encodeDhcpMessage(short);
      const minAboveMax = encodeDhcpMessage(reply(request, 'OFFER'));
      const p = minAboveMax.indexOf(Buffer.from([224, 4]), 240);
      minAboveMax.writeUInt16BE(40000, p + 2);
      return [Buffer.from('not dhcp at all'), good.subarray(0, 120), Buffer.concat([good, Buffer.alloc(3000)]), badLength, minAboveMax, good];
    });
    const { client: c, events } = await client(server);
    await c.start();
    expect(c.counters.rejected).toMatchObject({ DHCP_TRUNCATED: 2, DHCP_OVERSIZED: 1, DHCP_BAD_OPTION_LENGTH: 1, BAD_PORT_RANGE: 1 });
    const rejected = events.filter((e) => e.type === 'rejected');
    expect(rejected.length).toBeGreaterThanOrEqual(5);
    expect(rejected.every((e) => e.type === 'rejected' && e.reason.length > 0)).toBe(true);
    expect(c.state).toBe('BOUND');
  });

  it('uses an unexpired stored lease when nobody answers the INIT-REBOOT request (RFC 2131 §3.2)', async () => {
    const server = await fakeServer(() => []);
    const store = new MemoryLeaseStore();
    const hardwareAddress = parseHardwareAddress('02:00:5e:dd:00:01');
    const now = Date.now();
    const stored = { source: 'dhcp' as const, address: '10.9.0.40', serverId: '10.9.0.1', portRange: { min: 31000, max: 31019 }, mgc: [{ address: '10.9.0.5', port: 5060 }], obtainedAt: now, renewAt: now + 60_000, rebindAt: now + 90_000, expiresAt: now + 120_000, leaseSeconds: 120 };
    store.save({ lease: stored, clientId: `01${hardwareAddress.toString('hex')}`, vendorClass: 'Veilphone-1', released: false });
    const { client: c, events } = await client(server, { store, hardwareAddress });
    const lease = await c.start();
    expect(lease).toMatchObject({ source: 'stored', address: '10.9.0.40', portRange: { min: 31000, max: 31019 } });
    expect(states(events)).toEqual(['INIT_REBOOT', 'REBOOTING', 'BOUND']);
    expect(server.requests.map((r) => [r.options.messageType, r.options.requestedAddress, r.options.serverId])).toEqual(Array(fast.requestAttempts).fill(['REQUEST', '10.9.0.40', undefined]));
  });

  it('a NAK for the stored address restarts discovery without asking for that address again', async () => {
    const server = await fakeServer((request) => {
      if (request.options.messageType === 'REQUEST' && request.options.serverId === undefined) return [reply(request, 'NAK')];
      if (request.options.messageType === 'DISCOVER') return [reply(request, 'OFFER')];
      return [reply(request, 'ACK')];
    });
    const store = new MemoryLeaseStore();
    const hardwareAddress = parseHardwareAddress('02:00:5e:dd:00:02');
    const now = Date.now();
    store.save({ lease: { source: 'dhcp', address: '10.9.0.41', serverId: '10.9.0.1', portRange: { min: 31000, max: 31019 }, mgc: [{ address: '10.9.0.5', port: 5060 }], obtainedAt: now, renewAt: now + 60_000, rebindAt: now + 90_000, expiresAt: now + 120_000, leaseSeconds: 120 }, clientId: `01${hardwareAddress.toString('hex')}`, vendorClass: 'Veilphone-1', released: false });
    const { client: c, events } = await client(server, { store, hardwareAddress });
    const lease = await c.start();
    expect(states(events)).toEqual(['INIT_REBOOT', 'REBOOTING', 'INIT', 'SELECTING', 'REQUESTING', 'BOUND']);
    expect(server.requests.find((r) => r.options.messageType === 'DISCOVER')!.options.requestedAddress).toBeUndefined();
    expect(lease.address).toBe('10.9.0.33');
  });

  it('start() twice while negotiating is one negotiation', async () => {
    const server = await fakeServer((request) => [reply(request, request.options.messageType === 'DISCOVER' ? 'OFFER' : 'ACK')]);
    const { client: c } = await client(server);
    const [a, b] = await Promise.all([c.start(), c.start()]);
    expect(a).toBe(b);
    expect(server.requests.filter((r) => r.options.messageType === 'DISCOVER')).toHaveLength(1);
  });

  it('DISCOVER carries options 60, 61 and 55 with our private options requested, and asks for broadcast replies', async () => {
    const server = await fakeServer(() => []);
    const { client: c } = await client(server, { clientId: 'phone-7', hostName: 'desk-7', timing: { ...fast, maxDiscoverRounds: 1 } });
    await c.start().catch(() => undefined);
    const discover = server.requests[0]!;
    expect(discover.options.vendorClass).toBe('Veilphone-1');
    expect(discover.options.clientId).toEqual(Buffer.concat([Buffer.from([0]), Buffer.from('phone-7')]));
    expect(discover.options.parameterRequestList).toEqual(expect.arrayContaining([1, 3, 51, 54, 66, 67, 224, 225, 226]));
    expect(discover.options.hostName).toBe('desk-7');
    expect(discover.flags & 0x8000).toBe(0x8000);
  });

  it('a send that fails (link not up) is a round without offers; the budget still bounds it', async () => {
    const failing = { broadcast: () => Promise.reject(new LeaseError('TRANSPORT_FAILED', 'send ENETUNREACH')), unicast: () => Promise.resolve(), onPacket: () => undefined, close: () => Promise.resolve() };
    const c = new LeaseClient({ transport: failing, hardwareAddress: parseHardwareAddress('02:00:5e:ee:00:01'), vendorClass: 'Veilphone-1', timing: { ...fast, maxDiscoverRounds: 2 } });
    const events: LeaseEvent[] = [];
    c.on((e) => events.push(e));
    await expect(c.start()).rejects.toMatchObject({ code: 'NO_USABLE_OFFER', message: expect.stringContaining('send ENETUNREACH') });
    expect(events.filter((e) => e.type === 'discover')).toHaveLength(2);
    expect(c.state).toBe('FAILED');
  });

  it('a static configuration skips DHCP (Fig. 5A 504)', async () => {
    const server = await fakeServer(() => []);
    const { client: c, events } = await client(server, { static: { address: '192.0.2.10', portRange: { min: 40000, max: 40019 }, mgc: [{ address: '192.0.2.1', port: 5060 }] } });
    const lease = await c.start();
    expect(lease).toMatchObject({ source: 'static', address: '192.0.2.10', expiresAt: Number.POSITIVE_INFINITY });
    expect(states(events)).toEqual(['STATIC']);
    expect(server.requests).toHaveLength(0);
  });

  it('stop() during discovery ends start() with STOPPED, not FAILED', async () => {
    const server = await fakeServer(() => []);
    const { client: c } = await client(server, { timing: { ...fast, maxDiscoverRounds: 0 } });
    const started = c.start().catch((e: unknown) => e);
    await until(() => server.requests.length > 0);
    await c.stop();
    expect(await started).toMatchObject({ code: 'STOPPED' });
    expect(c.state).toBe('STOPPED');
  });
});
