import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeDhcpMessage, dhcpMessage, encodeDhcpMessage, parseHardwareAddress, type DhcpMessage } from '../../core/lease/dhcp-message.js';
import type { DhcpOptions } from '../../core/lease/dhcp-options.js';
import { LeaseClient } from '../../core/lease/lease-client.js';
import { UdpLeaseTransport } from '../../core/lease/lease-transport.js';
import { natAddresses, natContactParams } from '../../core/lease/nat-contact.js';
import { PortPool } from '../../core/lease/port-pool.js';
import { provision } from '../../core/lease/provisioner.js';
import { Lab } from '../lab.js';
import { DhcpService, type DhcpServiceOptions } from './dhcp-service.js';
import { PortBlockAllocator } from './port-block-allocator.js';
import { chooseCallAddresses, registeredAddresses } from './triangle.js';
import { until } from '../../test/support/until.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const timing = { initialWaitMs: 60, maxWaitMs: 200, jitterMs: 20, maxDiscoverRounds: 3, requestAttempts: 3 };
const config = '[veilphone]\nformat = 1\nregistrar = mgc\n[account desk]\nuser = 1001\n[dial_plan]\n184 = withhold\n';

async function phone(endpoint: { address: string; port: number }, mac: string, vendorClass: string): Promise<LeaseClient> {
  const client = new LeaseClient({ transport: await UdpLeaseTransport.loopback(endpoint), hardwareAddress: parseHardwareAddress(mac), vendorClass, timing });
  cleanups.push(() => client.stop());
  return client;
}

describe('the lab service gateway (seed 003, SPEC.md C)', () => {
  it('is optional in the lab; when on, two phones of different classes get disjoint ranges, the lab as MGC, and their config by TFTP', async () => {
    const plain = await Lab.start();
    expect(plain.serviceGateway).toBeUndefined();
    expect(plain.snapshot().serviceGateway).toBeUndefined();
    await plain.stop();

    const lab = await Lab.start({ serviceGateway: { vendorClasses: { 'Veilphone-1': 20, 'Veilphone-4': 80 }, files: { 'veilphone.cfg': config }, bootFile: 'veilphone.cfg' } });
    cleanups.push(() => lab.stop());
    const gateway = lab.serviceGateway!;
    const a = await provision({ lease: await phone(gateway.dhcp.endpoint, '02:00:5e:00:01:01', 'Veilphone-1'), tftp: { port: gateway.tftp.endpoint.port, timeoutMs: 200 } });
    const b = await provision({ lease: await phone(gateway.dhcp.endpoint, '02:00:5e:00:01:02', 'Veilphone-4'), tftp: { port: gateway.tftp.endpoint.port, timeoutMs: 200 } });
    expect(a.lease.portRange.max - a.lease.portRange.min + 1).toBe(20);
    expect(b.lease.portRange.max - b.lease.portRange.min + 1).toBe(80);
    expect(a.lease.portRange.max < b.lease.portRange.min || b.lease.portRange.max < a.lease.portRange.min).toBe(true);
    expect(a.lease.address).not.toBe(b.lease.address);
    expect(a.lease.mgc).toEqual([{ address: '127.0.0.1', port: lab.sip.ports.udp }]);
    expect(a.lease.natAddress).toBe('198.51.100.7');
    expect(a.source).toBe('tftp');
    expect(a.result.accounts[0]).toMatchObject({ user: '1001', server: `sip:127.0.0.1:${lab.sip.ports.udp}`, dialRules: [{ prefix: '184', action: 'withhold' }] });
    const snapshot = lab.snapshot().serviceGateway!;
    expect(snapshot.dhcp.leases.filter((l) => l.state === 'bound')).toHaveLength(2);
    expect(snapshot.tftp.counters.served).toBeGreaterThanOrEqual(1);

    // every port a phone takes from its pool passes the gateway's NAPPT unchanged
    const pool = PortPool.fromLease(a.lease);
    const call = pool.takeCall({ sip: ['udp'], rtpPairs: 1 });
    for (const port of [call.sip[0]!.port, call.rtp[0]!.rtp, call.rtp[0]!.rtcp]) {
      const out = gateway.nappt.outbound({ src: { address: a.lease.address, port }, dst: { address: '203.0.113.9', port: 5060 } });
      expect(out).toEqual({ packet: { src: { address: '198.51.100.7', port }, dst: { address: '203.0.113.9', port: 5060 } } });
      const back = gateway.nappt.inbound({ src: { address: '203.0.113.9', port: 5060 }, dst: { address: '198.51.100.7', port } });
      expect(back).toEqual({ packet: { src: { address: '203.0.113.9', port: 5060 }, dst: { address: a.lease.address, port } } });
    }
    // a port outside the phone's range, an unknown source, a port nobody holds: dropped with a reason and counted
    expect(gateway.nappt.outbound({ src: { address: a.lease.address, port: b.lease.portRange.min }, dst: { address: '203.0.113.9', port: 5060 } })).toMatchObject({ dropped: expect.stringContaining('outside') });
    expect(gateway.nappt.outbound({ src: { address: '10.77.0.249', port: 20000 }, dst: { address: '203.0.113.9', port: 5060 } })).toMatchObject({ dropped: expect.stringContaining('no lease') });
    expect(gateway.nappt.inbound({ src: { address: '203.0.113.9', port: 5060 }, dst: { address: '198.51.100.7', port: 1000 } })).toMatchObject({ dropped: expect.stringContaining('no phone holds') });
    expect(Object.values(gateway.nappt.counters.dropped).reduce((x, y) => x + y, 0)).toBe(3);
    expect(gateway.nappt.counters.outbound).toBe(3);
  });

  it('sends the private options as option 43 sub-options when asked, and the phone reads them the same', async () => {
    const lab = await Lab.start({ serviceGateway: { encoding: 'vendor-specific' } });
    cleanups.push(() => lab.stop());
    const lease = await (await phone(lab.serviceGateway!.dhcp.endpoint, '02:00:5e:00:02:01', 'Veilphone-1')).start();
    expect(lease.portRange.max - lease.portRange.min + 1).toBe(20);
    expect(lease.mgc).toHaveLength(1);
  });

  it('counts garbage sent to the DHCP server and keeps serving', async () => {
    const lab = await Lab.start({ serviceGateway: {} });
    cleanups.push(() => lab.stop());
    const { address, port } = lab.serviceGateway!.dhcp.endpoint;
    const socket = dgram.createSocket('udp4');
    cleanups.push(() => void socket.close());
    const good = encodeDhcpMessage(dhcpMessage({ op: 1, xid: 1, chaddr: Buffer.alloc(6, 1), options: { messageType: 'DISCOVER', vendorClass: 'Veilphone-1' } }));
    const wrongLength = Buffer.from(good);
    wrongLength[242] = 9; // option 53 claims 9 bytes
    for (const bytes of [Buffer.from('hello'), good.subarray(0, 200), Buffer.concat([good, Buffer.alloc(2000)]), wrongLength]) await new Promise((resolve) => socket.send(bytes, port, address, resolve));
    await until(() => Object.values(lab.serviceGateway!.dhcp.counters.rejected).reduce((x, y) => x + (y ?? 0), 0) >= 4);
    expect(lab.serviceGateway!.dhcp.counters.rejected).toMatchObject({ DHCP_TRUNCATED: 2, DHCP_OVERSIZED: 1 });
    expect(Object.values(lab.serviceGateway!.dhcp.counters.rejected).reduce((x, y) => x + (y ?? 0), 0)).toBe(4);
    await (await phone(lab.serviceGateway!.dhcp.endpoint, '02:00:5e:00:03:01', 'Veilphone-1')).start();
  });
});

describe('DhcpService decisions (RFC 2131 §4.3, seed 003 Fig. 5A/5B server side)', () => {
  const base: DhcpServiceOptions = { serverId: '10.77.0.1', pool: { first: '10.77.0.10', last: '10.77.0.12' }, vendorClasses: { 'Veilphone-1': 4 }, mgc: [{ address: '10.77.0.5', port: 5060 }], ports: { min: 30000, max: 30011 } };
  let xid = 100;
  const request = (mac: number, options: DhcpOptions, header: Partial<DhcpMessage> = {}): DhcpMessage => dhcpMessage({ op: 1, xid: xid++, chaddr: Buffer.from([2, 0, 0, 0, 0, mac]), ...header, options: { vendorClass: 'Veilphone-1', ...options } });
  const lease = (service: DhcpService, mac: number): DhcpMessage => {
    const offer = service.handle(request(mac, { messageType: 'DISCOVER' }));
    if (!('reply' in offer)) throw new Error(offer.ignored);
    const ack = service.handle(request(mac, { messageType: 'REQUEST', serverId: '10.77.0.1', requestedAddress: offer.reply.yiaddr }));
    if (!('reply' in ack)) throw new Error(ack.ignored);
    return decodeDhcpMessage(encodeDhcpMessage(ack.reply));
  };

  it('hands out disjoint even-aligned blocks until the port space is used up, then ignores', () => {
    const service = new DhcpService(base);
    const ranges = [1, 2, 3].map((mac) => lease(service, mac).options.portRange);
    expect(ranges).toEqual([
      { min: 30000, max: 30003 },
      { min: 30004, max: 30007 },
      { min: 30008, max: 30011 },
    ]);
    expect(service.handle(request(4, { messageType: 'DISCOVER' }))).toEqual({ ignored: 'address pool exhausted' });
  });

  it('NAKs a REQUEST for an offer it never made, an INIT-REBOOT for another phone\'s address and a renewal of an unknown lease', () => {
    const service = new DhcpService(base);
    const mine = lease(service, 1);
    const nak = (d: ReturnType<DhcpService['handle']>): string | undefined => ('reply' in d && d.reply.options.messageType === 'NAK' ? d.reply.options.message : undefined);
    expect(nak(service.handle(request(2, { messageType: 'REQUEST', serverId: '10.77.0.1', requestedAddress: '10.77.0.11' })))).toBe('no such offer');
    expect(nak(service.handle(request(2, { messageType: 'REQUEST', requestedAddress: mine.yiaddr })))).toMatch(/is not yours/);
    expect(nak(service.handle(request(2, { messageType: 'REQUEST' }, { ciaddr: '10.77.0.11' })))).toBe('lease unknown or expired');
    expect(service.handle(request(2, { messageType: 'REQUEST' }, { ciaddr: '192.0.2.7' }))).toEqual({ ignored: 'not our address' });
    // the right phone renews fine
    const renewed = service.handle(request(1, { messageType: 'REQUEST' }, { ciaddr: mine.yiaddr }));
    expect('reply' in renewed && renewed.reply.options.messageType).toBe('ACK');
  });

  it('drops its offer when the client picks another server', () => {
    const service = new DhcpService(base);
    service.handle(request(1, { messageType: 'DISCOVER' }));
    expect(service.handle(request(1, { messageType: 'REQUEST', serverId: '10.77.0.99', requestedAddress: '10.77.0.10' }))).toEqual({ ignored: 'client chose server 10.77.0.99' });
    expect(service.list()).toHaveLength(0);
  });

  it('keeps bound leases in its lease file and gives the same phone the same address and block after a restart (Fig. 5B 564)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-sg-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const leaseFile = path.join(dir, 'leases.json');
    const first = lease(new DhcpService({ ...base, leaseFile }), 2);
    const restarted = new DhcpService({ ...base, leaseFile });
    expect(restarted.list()).toMatchObject([{ address: first.yiaddr, portRange: first.options.portRange, state: 'bound' }]);
    const again = restarted.handle(request(2, { messageType: 'REQUEST', requestedAddress: first.yiaddr }));
    expect('reply' in again && again.reply.options.portRange).toEqual(first.options.portRange);
  });

  it('never throws on mutated requests: decoding rejects with a LeaseError, decisions are replies or reasons (fuzz)', () => {
    const service = new DhcpService({ ...base, pool: { first: '10.77.0.10', last: '10.77.0.250' }, ports: { min: 20000, max: 60000 } });
    const samples = [
      encodeDhcpMessage(request(1, { messageType: 'DISCOVER', clientId: Buffer.from([1, 2, 0, 0, 0, 0, 1]), parameterRequestList: [1, 3, 224] })),
      encodeDhcpMessage(request(2, { messageType: 'REQUEST', serverId: '10.77.0.1', requestedAddress: '10.77.0.10' })),
      encodeDhcpMessage(request(3, { messageType: 'REQUEST' }, { ciaddr: '10.77.0.11' })),
      encodeDhcpMessage(request(4, { messageType: 'RELEASE', serverId: '10.77.0.1' }, { ciaddr: '10.77.0.12' })),
    ];
    let seed = 4242;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const outcomes = { rejected: 0, replied: 0, ignored: 0 };
    for (let round = 0; round < 3000; round++) {
      const bytes = Buffer.from(samples[round % samples.length]!);
      for (let i = 0; i < 1 + Math.floor(random() * 4); i++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      let message: DhcpMessage;
      try {
        message = decodeDhcpMessage(bytes);
      } catch (error) {
        expect((error as Error).name).toBe('LeaseError');
        outcomes.rejected++;
        continue;
      }
      const decision = service.handle(message);
      if ('reply' in decision) {
        outcomes.replied++;
        decodeDhcpMessage(encodeDhcpMessage(decision.reply));
      } else outcomes.ignored++;
    }
    expect(outcomes.rejected).toBeGreaterThan(0);
    expect(outcomes.replied).toBeGreaterThan(0);
    expect(outcomes.ignored).toBeGreaterThan(0);
  });

  it('validates the client id or hardware address before the vendor class (Fig. 5A 510 → 512)', () => {
    const service = new DhcpService({ ...base, allowedClients: { clientIds: ['0102000000000b'], hardwarePrefixes: ['02:00:00:00:00:0c'] } });
    expect(service.handle(request(11, { messageType: 'DISCOVER', clientId: Buffer.from('0102000000000b', 'hex') }))).toHaveProperty('reply');
    expect(service.handle(request(12, { messageType: 'DISCOVER' }))).toHaveProperty('reply');
    expect(service.handle(request(13, { messageType: 'DISCOVER' }))).toEqual({ ignored: 'client 02:00:00:00:00:0d (hw:02:00:00:00:00:0d) is not allowed' });
    // a known client with a class the gateway does not serve is still ignored
    expect(service.handle(request(12, { messageType: 'DISCOVER', vendorClass: 'Acme' }))).toEqual({ ignored: 'vendor class "Acme" is not served' });
    expect(service.handle(request(12, { messageType: 'DISCOVER', vendorClass: undefined }))).toEqual({ ignored: 'no vendor class (option 60)' });
  });

  it('refuses a configuration it could not serve', () => {
    expect(() => new DhcpService({ ...base, vendorClasses: { tiny: 2 } })).toThrow(/at least 3 ports/);
    expect(() => new DhcpService({ ...base, mgc: [] })).toThrow(/soft switches/);
    expect(() => new DhcpService({ ...base, natAddress: '300.1.1.1' })).toThrow(/not an IPv4 address/);
    expect(() => new DhcpService({ ...base, ports: { min: 40000, max: 30000 } })).toThrow(/above last port/);
  });

  it('PortBlockAllocator fills gaps first-fit and a client keeps its block', () => {
    const blocks = new PortBlockAllocator({ min: 100, max: 199 });
    expect(blocks.allocate('a', 20)).toEqual({ min: 100, max: 119 });
    expect(blocks.allocate('b', 30)).toEqual({ min: 120, max: 149 });
    expect(blocks.allocate('a', 20)).toEqual({ min: 100, max: 119 });
    blocks.free('a');
    expect(blocks.allocate('c', 10)).toEqual({ min: 100, max: 109 });
    expect(blocks.allocate('d', 60)).toBeUndefined();
    expect(blocks.owner(125)).toBe('b');
  });
});

describe('the registrar\'s triangle rule (seed 003 Fig. 11)', () => {
  const alice = { private: { address: '10.77.0.10', port: 20000 }, public: { address: '198.51.100.7', port: 20000 } };
  const bob = { private: { address: '10.77.0.11', port: 20020 }, public: { address: '198.51.100.7', port: 20020 } };
  const carol = { private: { address: '10.88.0.10', port: 30000 }, public: { address: '203.0.113.5', port: 30000 } };

  it('two phones behind the same public address get each other\'s private addresses', () => {
    expect(chooseCallAddresses(alice, bob)).toEqual({ callerSends: bob.private, calleeSends: alice.private, path: 'private' });
  });

  it('phones behind different gateways get each other\'s public addresses', () => {
    expect(chooseCallAddresses(alice, carol)).toEqual({ callerSends: carol.public, calleeSends: alice.public, path: 'public' });
  });

  it('reads the addresses from registered Contacts; a Contact without them is an outside party, reached publicly', () => {
    const contact = (a: typeof alice, user: string): string => `<sip:${user}@${a.private.address}:${a.private.port}>;expires=600;${natContactParams(natAddresses(a.private.address, a.private.port, a.public.address)).join(';')}`;
    expect(registeredAddresses(contact(alice, '1001'))).toEqual(alice);
    const outside = registeredAddresses('<sip:trunk@198.51.100.7:5060;transport=udp>');
    expect(outside).toEqual({ public: { address: '198.51.100.7', port: 5060 } });
    // the same public address, but the trunk has no private one: public path
    expect(chooseCallAddresses(alice, outside!)).toMatchObject({ path: 'public', callerSends: { address: '198.51.100.7', port: 5060 } });
    expect(chooseCallAddresses(registeredAddresses(contact(alice, '1001'))!, registeredAddresses(contact(bob, '1002'))!).path).toBe('private');
  });
});
