import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Child } from '../support/child.js';
import { jsonLine } from '../support/json-lines.js';
import { NetnsTopology } from '../support/netns-topology.js';
import { projectRoot } from '../support/veilphone-cli.js';

const room = '100-1101-1201';
const isRoot = process.getuid?.() === 0;

interface Rooms {
  [room: string]: { allotted: string[]; free: string[] };
}

/**
 * Seed 001 Figs. 8-12 on real links: a room namespace with its gateway (and the management server) on a bridge, and a
 * namespace per terminal on a veth into that bridge. Terminals broadcast their allocation request from port 68, get a
 * real private address on their interface with their number, register it from that address, and give it back; then
 * they call each other through the gateway on those addresses. The second test goes on from the state the first left.
 */
describe.skipIf(!isRoot)('household terminals in network namespaces (seed 001, issue 20)', () => {
  const topology = new NetnsTopology('hh');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-household-'));
  const children: Child[] = [];
  const ifaces: Record<string, string> = {};
  let roomNode: Child;

  const terminalNodes: Record<string, Child> = {};
  const node = (role: string, script: string, config: unknown): Child => {
    const child = new Child(topology.spawn(role, process.execPath, ['--import', 'tsx', path.join(projectRoot, 'test/support/household', script), JSON.stringify(config)], { cwd: projectRoot, stdio: ['pipe', 'pipe', 'pipe'] }));
    terminalNodes[role] = child;
    children.push(child);
    return child;
  };
  const addresses = (role: string): string => topology.exec(role, 'ip', ['-4', '-o', 'addr', 'show', 'dev', ifaces[role]!]);

  beforeAll(async () => {
    topology.add('room');
    topology.exec('room', 'ip', ['link', 'add', 'br0', 'type', 'bridge']);
    topology.exec('room', 'ip', ['link', 'set', 'br0', 'up']);
    for (const t of ['t1', 't2', 't3', 't4']) {
      topology.add(t);
      const link = topology.link('room', t);
      topology.exec('room', 'ip', ['link', 'set', link.a, 'master', 'br0']);
      ifaces[t] = link.b;
    }
    roomNode = node('room', 'room-node.ts', { room, size: 2, pool: { first: '10.77.1.1', last: '10.77.1.20' }, lan: 'br0', file: path.join(dir, 'household.json') });
    await jsonLine(roomNode, 'ready');
    // RFC 2131 §4.1: replies to a client without an address are broadcast on the room's link
    topology.exec('room', 'ip', ['route', 'add', '255.255.255.255/32', 'dev', 'br0']);
  }, 60_000);

  afterAll(async () => {
    for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGTERM');
    await Promise.allSettled(children.map((c) => c.exitCode(5000)));
    topology.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('allocation over a real link: address and number on the interface, REGISTER from it; deletion gives both to the next terminal', async () => {
    expect(topology.exec('room', 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'br0'])).toContain('10.77.1.1/24'); // Fig. 9: the gateway's first address
    const t1 = node('t1', 'terminal-node.ts', { iface: ifaces.t1 });
    const first = await jsonLine<{ household: { number: string; address: string }; state: string; contact: string }>(t1, 'registered');
    expect(first).toMatchObject({ household: { number: `${room}-1`, address: '10.77.1.2' }, state: 'registered' });
    expect(first.contact).toContain('@10.77.1.2:');
    expect(addresses('t1')).toContain('10.77.1.2/24');

    const t2 = node('t2', 'terminal-node.ts', { iface: ifaces.t2 });
    // Fig. 10 step 102: the room had 2 addresses (the gateway's and one): the second terminal makes it ask for one more
    const second = await jsonLine<{ household: { number: string; address: string } }>(t2, 'registered');
    expect(second.household).toMatchObject({ number: `${room}-2`, address: '10.77.1.3' });
    await jsonLine<Rooms>(roomNode, 'rooms', (rooms) => rooms[room]!.allotted.length === 3);

    // Fig. 8 steps 82, 84 / Fig. 12: t1 is withdrawn: it releases, its interface loses the address, the room frees it
    t1.process.kill('SIGTERM');
    expect(await t1.exitCode(15_000)).toBe(0);
    expect(addresses('t1')).not.toContain('10.77.1.2');
    await jsonLine<Rooms>(roomNode, 'rooms', (rooms) => rooms[room]!.free.includes('10.77.1.2'));

    const t3 = node('t3', 'terminal-node.ts', { iface: ifaces.t3 });
    const third = await jsonLine<{ household: { number: string; address: string } }>(t3, 'registered');
    expect(third.household).toMatchObject({ number: `${room}-1`, address: '10.77.1.2' });
    expect(addresses('t3')).toContain('10.77.1.2/24');
  }, 90_000);

  it('ring-all across the room\'s links: the others ring "whole room", one answers, the rest end "answered elsewhere"; -N rings one', async () => {
    const t2 = terminalNodes.t2!;
    const t3 = terminalNodes.t3!;
    const t4 = node('t4', 'terminal-node.ts', { iface: ifaces.t4 });
    expect((await jsonLine<{ household: { number: string } }>(t4, 'registered')).household.number).toBe(`${room}-3`);
    const send = (child: Child, command: unknown): void => void child.process.stdin!.write(`${JSON.stringify(command)}\n`);
    interface CallLine {
      id: string;
      direction: string;
      remote?: string;
      status?: number;
      rang?: string;
      answeredElsewhere?: boolean;
    }

    send(t3, { call: room }); // t3 (-1) dials its own room: t2 and t4 ring, not t3
    const atT2 = await jsonLine<CallLine>(t2, 'incoming');
    const atT4 = await jsonLine<CallLine>(t4, 'incoming');
    expect([atT2.rang, atT4.rang]).toEqual(['room', 'room']);
    expect(atT2.remote).toBe(`${room}-1`);
    send(t2, { answer: atT2.id });
    await jsonLine<CallLine>(t3, 'established');
    const elsewhere = await jsonLine<CallLine>(t4, 'ended', (c) => c.id === atT4.id);
    expect(elsewhere).toMatchObject({ status: 487, answeredElsewhere: true });
    expect(t3.stdout).not.toContain('{"incoming":');
    const placed = await jsonLine<string>(t3, 'value');
    send(t3, { hangup: placed });
    await jsonLine<CallLine>(t2, 'ended', (c) => c.id === atT2.id);

    send(t3, { call: `${room}-3` }); // ring-one: only t4
    const one = await jsonLine<CallLine>(t4, 'incoming', (c) => c.id !== atT4.id);
    expect(one.rang).toBe('terminal');
    send(t4, { answer: one.id });
    await jsonLine<CallLine>(t3, 'established', (c) => c.id !== placed);
    expect(t2.stdout.match(/\{"incoming":/g)).toHaveLength(1);
  }, 90_000);
});
