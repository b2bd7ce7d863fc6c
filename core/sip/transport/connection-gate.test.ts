import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConnectionGate, type ConnectionRefusal, type ConnectionWatch } from './connection-gate.js';

/** The part of a net.Socket the gate uses; closes (once) when destroyed. */
class FakeSocket extends EventEmitter {
  destroyed = false;
  reset = false;
  constructor(readonly remoteAddress: string) {
    super();
  }
  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      this.emit('close');
    }
    return this;
  }
  resetAndDestroy(): this {
    this.reset = true;
    return this.destroy();
  }
  /** Bytes arrived; the connection then reports where its messages stand. */
  receive(watch: ConnectionWatch, messages: number, midMessage: boolean): void {
    this.emit('data', Buffer.alloc(1));
    watch.progress({ messages, midMessage });
  }
}

const limits = { maxConnections: 3, maxPerSource: 2, firstMessageTimeoutMs: 1000, incompleteMessageTimeoutMs: 500, idleTimeoutMs: 5000 };

describe('ConnectionGate (caps and timeouts of accepted connections)', () => {
  let refused: ConnectionRefusal[];
  let held: Map<string, number>;
  let gate: ConnectionGate;
  beforeEach(() => {
    vi.useFakeTimers();
    refused = [];
    held = new Map();
    gate = new ConnectionGate({ limits, onRefused: (code) => refused.push(code), heldUntil: (id) => held.get(id) });
  });
  afterEach(() => vi.useRealTimers());

  const admit = (address: string): { socket: FakeSocket; watch: ConnectionWatch | undefined } => {
    const socket = new FakeSocket(address);
    return { socket, watch: gate.admit(socket as unknown as net.Socket) };
  };

  it('caps connections per source address and in total, resets what is over, and frees a slot on close', () => {
    const a1 = admit('10.0.0.1');
    const a2 = admit('::ffff:10.0.0.1'); // the same source, IPv4-mapped
    const a3 = admit('10.0.0.1');
    expect([a1.watch, a2.watch].every(Boolean)).toBe(true);
    expect(a3.watch).toBeUndefined();
    expect(a3.socket.reset).toBe(true);
    const b1 = admit('10.0.0.2');
    const c1 = admit('10.0.0.3');
    expect(b1.watch).toBeDefined();
    expect(c1.watch).toBeUndefined();
    expect(refused).toEqual(['TOO_MANY_FROM_SOURCE', 'TOO_MANY_CONNECTIONS']);
    expect(gate.snapshot()).toMatchObject({ open: 3, sources: 2 });

    a1.socket.destroy();
    expect(gate.snapshot()).toMatchObject({ open: 2, sources: 2 });
    expect(admit('10.0.0.1').watch).toBeDefined();
    expect(gate.open).toBe(3);
    expect(admit('10.0.0.3').watch).toBeUndefined();
    expect(refused).toEqual(['TOO_MANY_FROM_SOURCE', 'TOO_MANY_CONNECTIONS', 'TOO_MANY_CONNECTIONS']);
  });

  it('keeps room beyond the cap for reserved sources only, under their per-source cap', () => {
    gate = new ConnectionGate({ limits: { ...limits, reservedConnections: 2 }, onRefused: (code) => refused.push(code), reserved: (source) => source === '10.0.0.9' });
    expect([admit('10.0.0.1'), admit('10.0.0.1'), admit('10.0.0.2')].every((a) => a.watch)).toBe(true);
    expect(admit('10.0.0.3').watch).toBeUndefined(); // a stranger: the cap is full
    expect(admit('10.0.0.9').watch).toBeDefined();
    expect(admit('::ffff:10.0.0.9').watch).toBeDefined();
    expect(admit('10.0.0.9').watch).toBeUndefined(); // its per-source cap
    expect(refused).toEqual(['TOO_MANY_CONNECTIONS', 'TOO_MANY_FROM_SOURCE']);
    expect(gate.open).toBe(5);
  });

  it('closes a connection that sends no whole message in time, keep-alives or not', () => {
    const silent = admit('10.0.0.1');
    const chatty = admit('10.0.0.2');
    vi.advanceTimersByTime(600);
    chatty.socket.receive(chatty.watch!, 0, false); // CRLF keep-alives are no message
    chatty.socket.receive(chatty.watch!, 0, true); // half a request
    vi.advanceTimersByTime(399);
    expect(silent.socket.destroyed || chatty.socket.destroyed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(silent.socket.destroyed && chatty.socket.destroyed).toBe(true);
    expect(refused).toEqual(['FIRST_MESSAGE_TIMEOUT', 'FIRST_MESSAGE_TIMEOUT']);
    expect(gate.open).toBe(0);
  });

  it('closes a connection whose message stops half way, counting from the end of the last whole one', () => {
    const { socket, watch } = admit('10.0.0.1');
    socket.receive(watch!, 1, false);
    vi.advanceTimersByTime(300);
    socket.receive(watch!, 1, true); // the next message begins
    vi.advanceTimersByTime(300);
    socket.receive(watch!, 2, true); // it ends, and a third begins in the same chunk
    vi.advanceTimersByTime(400);
    socket.receive(watch!, 2, true); // a trickle of the third: no whole message since 600
    expect(socket.destroyed).toBe(false);
    vi.advanceTimersByTime(100);
    expect(socket.destroyed).toBe(true);
    expect(refused).toEqual(['INCOMPLETE_MESSAGE_TIMEOUT']);
  });

  it('closes an idle connection, keeps one that keeps alive, and keeps a silent one its registration holds', () => {
    const idle = admit('10.0.0.1');
    const alive = admit('10.0.0.2');
    const registered = admit('10.0.0.3');
    registered.watch!.connectionId = 'tcp-9';
    held.set('tcp-9', Date.now() + 12_000);
    for (const c of [idle, alive, registered]) c.socket.receive(c.watch!, 1, false);
    for (let i = 0; i < 2; i++) {
      vi.advanceTimersByTime(4000);
      alive.socket.receive(alive.watch!, 1, false); // a CRLF keep-alive every 4 s
    }
    // 8 s: the idle one went at 5 s; the silent registered one stays while its registration lives (to 12 s)
    expect(idle.socket.destroyed).toBe(true);
    expect(alive.socket.destroyed || registered.socket.destroyed).toBe(false);
    vi.advanceTimersByTime(3999);
    expect(registered.socket.destroyed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(registered.socket.destroyed).toBe(true);
    expect(alive.socket.destroyed).toBe(false);
    expect(refused).toEqual(['IDLE_TIMEOUT', 'IDLE_TIMEOUT']);
  });
});
