import { describe, expect, it } from 'vitest';
import type { CallSnapshot, CallState, PhoneEvent } from '../api/phone-types.js';
import { LoadCaller } from './load-caller.js';

/** A phone whose calls do what each test scripts: `answer` after call() returns, or before it does, or never. */
class ScriptedPhone {
  private listeners = new Set<(event: PhoneEvent) => void>();
  private next = 0;
  hangups: string[] = [];
  constructor(private readonly script: (id: string, phone: ScriptedPhone) => 'early-end' | 'later' | 'never') {}

  subscribe(listener: (event: PhoneEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  get listenerCount(): number {
    return this.listeners.size;
  }
  emit(id: string, state: CallState, extra: Partial<CallSnapshot> = {}): void {
    for (const listener of this.listeners) listener({ type: 'call', call: snapshot(id, state, extra) });
  }
  async call(): Promise<CallSnapshot> {
    const id = `call-${++this.next}`;
    const plan = this.script(id, this);
    // a refusal that comes back before call() returns: its end must not be lost
    if (plan === 'early-end') this.emit(id, 'terminated', { status: 486 });
    if (plan === 'later') {
      setTimeout(() => this.emit(id, 'established', { status: 200, setupMs: 7 }), 5);
    }
    return snapshot(id, 'calling');
  }
  async hangup(id: string): Promise<void> {
    this.hangups.push(id);
    setTimeout(() => this.emit(id, 'terminated', { status: 487 }), 1);
  }
}

function snapshot(id: string, state: CallState, extra: Partial<CallSnapshot> = {}): CallSnapshot {
  return { id, accountId: 'a', direction: 'outgoing', state, remote: { shown: 'bob', uri: 'sip:bob@x', anonymous: false }, sipCallId: id, startedAt: 0, localHold: false, remoteHold: false, muted: false, ...extra } as CallSnapshot;
}

const answered: number[] = [];
const progress = { answered: (setupMs: number | undefined) => void answered.push(setupMs ?? -1) };

describe('LoadCaller', () => {
  it('follows an answered call to its end: answer reported once, the caller hangs up, nothing kept afterwards', async () => {
    const phone = new ScriptedPhone(() => 'later');
    const caller = new LoadCaller(phone, { target: 'bob', holdMs: 0, settleMs: 1000 });
    answered.length = 0;
    await expect(caller.place(progress)).resolves.toEqual({ established: true, status: 200, setupMs: 7 });
    expect(answered).toEqual([7]);
    expect(phone.hangups).toEqual(['call-1']);
    expect((caller as unknown as { snapshots: Map<string, unknown> }).snapshots.size).toBe(0);
    caller.close();
    expect(phone.listenerCount).toBe(0);
  });

  it('keeps the end of a call refused before call() returned, and counts its status', async () => {
    const phone = new ScriptedPhone(() => 'early-end');
    const caller = new LoadCaller(phone, { target: 'bob', holdMs: 0, settleMs: 1000 });
    await expect(caller.place(progress)).resolves.toEqual({ established: false, status: 486 });
    expect(phone.hangups).toEqual([]);
    caller.close();
  });

  it('gives up a call that is neither answered nor refused within settleMs, and hangs it up', async () => {
    const phone = new ScriptedPhone(() => 'never');
    const caller = new LoadCaller(phone, { target: 'bob', holdMs: 0, settleMs: 50 });
    await expect(caller.place(progress)).resolves.toEqual({ established: false, status: 487 });
    expect(phone.hangups).toEqual(['call-1']);
    caller.close();
  });

  it('forgets the ended calls of the phone that no load placement follows', async () => {
    const phone = new ScriptedPhone(() => 'later');
    const caller = new LoadCaller(phone, { target: 'bob', holdMs: 0, settleMs: 1000 });
    phone.emit('other', 'established');
    phone.emit('other', 'terminated');
    expect((caller as unknown as { snapshots: Map<string, unknown> }).snapshots.has('other')).toBe(false);
    caller.close();
  });
});
