import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AddressApplier } from '../address/address-applier.js';
import { TemporaryAddressManager } from '../address/temporary-address-manager.js';
import { decodeDhcpMessage, dhcpMessage, encodeDhcpMessage, type DhcpMessage } from '../lease/dhcp-message.js';
import { until } from '../../test/support/until.js';
import { OwnershipJournal } from '../address/address-journal.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { DhcpAddressSource } from './dhcp-address-source.js';
import { cleanUpLeftovers } from './leftover-cleanup.js';

/**
 * A DHCP server on loopback that knows nothing about the phone: it offers the next address of `offers` (so a test can
 * make it offer one again), acks every REQUEST, and records what it received.
 */
async function addressServer(offers: string[]): Promise<{ port: number; received: DhcpMessage[]; close: () => Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  const received: DhcpMessage[] = [];
  let next = 0;
  socket.on('message', (packet, from) => {
    const request = decodeDhcpMessage(packet);
    received.push(request);
    const type = request.options.messageType;
    if (type !== 'DISCOVER' && type !== 'REQUEST') return;
    const yiaddr = type === 'DISCOVER' ? offers[next++ % offers.length]! : request.options.requestedAddress!;
    const reply = dhcpMessage({ op: 2, xid: request.xid, chaddr: request.chaddr, yiaddr, options: { messageType: type === 'DISCOVER' ? 'OFFER' : 'ACK', serverId: '127.0.0.1', leaseTime: 120, subnetMask: '255.255.0.0' } });
    socket.send(encodeDhcpMessage(reply), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return { port: socket.address().port, received, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}

/** Records the order of what happens to addresses; puts nothing anywhere. */
function recordingApplier(log: string[]): AddressApplier {
  return {
    mode: 'kernel',
    reason: 'test',
    binds: true,
    apply: async (address: string) => void log.push(`apply ${address}`),
    remove: async (address: string) => void log.push(`remove ${address}`),
  } as AddressApplier;
}

const servers: Array<{ close: () => Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('one-time IPv4 addresses from a DHCP server (seed 000 steps 504/508)', () => {
  it('leases each address as a new client, releases it after use, and never hands out an address used before', async () => {
    // the server offers .11 again for the third lease: the phone takes it, asks for another, and gives .11 back
    const server = await addressServer(['10.9.0.10', '10.9.0.11', '10.9.0.11', '10.9.0.12']);
    servers.push(server);
    const log: string[] = [];
    const source = new DhcpAddressSource({ link: { server: { address: '127.0.0.1', port: server.port } }, timing: { initialWaitMs: 200, maxWaitMs: 400, jitterMs: 0 } });
    const manager = new TemporaryAddressManager({ source, applier: recordingApplier(log), prepareAhead: false });
    expect(manager.oneAtATime).toBe(true);

    const addresses: string[] = [];
    for (let call = 0; call < 3; call++) {
      const leased = await manager.acquire('receiving');
      expect(leased).toMatchObject({ family: 4, prefixLength: 16, source: 'dhcp 127.0.0.1' });
      addresses.push(leased.address);
      await leased.release();
    }
    expect(addresses).toEqual(['10.9.0.10', '10.9.0.11', '10.9.0.12']);
    // each address is released (seed 000 step 515) before it leaves the interface, so the RELEASE comes from it
    expect(log).toEqual(['apply 10.9.0.10', 'remove 10.9.0.10', 'apply 10.9.0.11', 'remove 10.9.0.11', 'apply 10.9.0.12', 'remove 10.9.0.12']);
    const releases = (): string[] => server.received.filter((m) => m.options.messageType === 'RELEASE').map((m) => m.ciaddr);
    await until(() => releases().length >= 4); // the last ones may still be on their way over loopback
    expect(releases().sort()).toEqual(['10.9.0.10', '10.9.0.11', '10.9.0.11', '10.9.0.12']);

    // four leases, four clients: a fresh locally administered MAC and the client id made from it, nothing else to
    // tie them together — no vendor class, no host name
    const discovers = server.received.filter((m) => m.options.messageType === 'DISCOVER');
    expect(discovers).toHaveLength(4);
    expect(new Set(discovers.map((m) => m.chaddr.toString('hex'))).size).toBe(4);
    for (const m of discovers) {
      expect(m.chaddr[0]! & 0x03).toBe(0x02);
      expect(m.options.clientId!.toString('hex')).toBe(`01${m.chaddr.toString('hex')}`);
      expect(m.options.vendorClass).toBeUndefined();
      expect(m.options.hostName).toBeUndefined();
    }
    await manager.close();
  });

  // helper 73: after kill -9 mid-call the address and the registration were cleaned up at the next start, but the
  // server kept the lease (no DHCPRELEASE, and the journal had no record of it) for the rest of its time
  it('writes each lease down while it is held; after a crash the next start gives it back as its client would have', async () => {
    const server = await addressServer(['10.9.0.20', '10.9.0.21']);
    servers.push(server);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-dhcp-journal-'));
    try {
      const link = { server: { address: '127.0.0.1', port: server.port } };
      const journal = OwnershipJournal.open(dir);
      const source = new DhcpAddressSource({ link, journal, timing: { initialWaitMs: 200, maxWaitMs: 400, jitterMs: 0 } });
      const given = await source.next();
      expect(journal.outstanding().map((e) => e.thing)).toEqual([{ kind: 'dhcp-lease', address: given.address, serverId: '127.0.0.1', chaddr: expect.stringMatching(/^[0-9a-f]{12}$/), link }]);
      await source.giveBack(given);
      expect(journal.outstanding()).toEqual([]); // released: nothing for the next start

      const held = await source.next(); // ... and the process dies holding this one
      const chaddr = (journal.outstanding()[0]!.thing as { chaddr: string }).chaddr;
      journal.close();
      const restarted = OwnershipJournal.open(dir);
      const result = await cleanUpLeftovers({ journal: restarted, oneTimeRemover: () => undefined, credentials: () => undefined, sessionDescriptionHandlerFactory: staticSdhFactory(), failed: () => () => undefined });
      expect(result.leasesReleased).toEqual([held.address]);
      const release = await until(() => server.received.find((m) => m.options.messageType === 'RELEASE' && m.ciaddr === held.address));
      expect(release.chaddr.toString('hex')).toBe(chaddr);
      expect(release.options.clientId!.toString('hex')).toBe(`01${chaddr}`);
      expect(release.options.serverId).toBe('127.0.0.1');
      expect(restarted.outstanding()).toEqual([]);
      restarted.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an address server that never answers is a typed NO_LEASE error, not a hang', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()));
    servers.push({ close: () => new Promise((resolve) => silent.close(() => resolve())) });
    const source = new DhcpAddressSource({ link: { server: { address: '127.0.0.1', port: silent.address().port } }, timing: { initialWaitMs: 50, maxWaitMs: 50, jitterMs: 0, maxDiscoverRounds: 2 } });
    await expect(source.next()).rejects.toMatchObject({ name: 'AddressError', code: 'NO_LEASE' });
  });
});
