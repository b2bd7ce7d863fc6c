import { describe, expect, it } from 'vitest';
import type { CallSnapshot } from '../api/phone-types.js';
import { ScenarioState, type AgentRuntime } from './scenario-state.js';
import type { Scenario } from './scenario-schema.js';

const agent = (name: string): AgentRuntime => ({ name, incoming: [], loadIncoming: new Map() }) as unknown as AgentRuntime;
const call = (id: string, direction: 'incoming' | 'outgoing', state: CallSnapshot['state'], status?: number, sipCallId = `${id}@lab`, user = 'alice'): CallSnapshot =>
  ({ id, accountId: 'a', direction, state, remote: { shown: user, uri: `sip:${user}@lab`, user, anonymous: false }, sipCallId, startedAt: 0, localHold: false, remoteHold: false, muted: false, ...(status !== undefined ? { status } : {}) }) as CallSnapshot;

describe('what a run keeps of its calls', () => {
  it("keeps a named call's legs whole, and of a load's calls only those still going: an ended incoming one is counted", () => {
    const state = new ScenarioState({ agents: {}, steps: [] } as unknown as Scenario);
    const alice = agent('alice');
    const bob = agent('bob');
    state.agents.set('alice', alice).set('bob', bob);
    state.noteCall(bob, call('named', 'incoming', 'ringing'));
    // a named call placed just before the load: its callee leg's first event comes while the load runs
    state.noteCall(alice, call('c1-out', 'outgoing', 'calling', undefined, 'c1@alice-host'));
    state.calls.set('c1', { id: 'c1', from: 'alice', callerLeg: 'c1-out', to: 'bob' });
    state.loading = true;
    state.noteCall(bob, call('c1-in', 'incoming', 'ringing', undefined, 'c1@lab'));
    for (let i = 0; i < 10_000; i++) {
      state.noteCall(alice, call(`out-${i}`, 'outgoing', 'calling'));
      state.noteCall(bob, call(`in-${i}`, 'incoming', 'ringing'));
      state.noteCall(bob, call(`in-${i}`, 'incoming', 'established', 200));
      state.noteCall(alice, call(`out-${i}`, 'outgoing', 'terminated', 200));
      if (i < 9_990) state.noteCall(bob, call(`in-${i}`, 'incoming', 'terminated', i % 2 === 0 ? 200 : 486));
    }
    state.noteCall(bob, call('named', 'incoming', 'established', 200)); // a named call going on during the load
    // refused at once, its end told twice: counted once
    state.noteCall(bob, call('refused', 'incoming', 'terminated', 486));
    state.noteCall(bob, call('refused', 'incoming', 'terminated', 486));
    state.loading = false;
    // the load's last ten end after its step is over: still the load's
    for (let i = 9_990; i < 10_000; i++) state.noteCall(bob, call(`in-${i}`, 'incoming', 'terminated', 486));
    expect([...state.snapshots.keys()]).toEqual(['named', 'c1-out', 'c1-in']);
    expect(state.snapshots.get('named')!.state).toBe('established');
    expect(bob.incoming).toEqual(['named', 'c1-in']);
    expect(state.calleeLeg(state.calls.get('c1')!, 'bob')).toBe('c1-in');
    expect([...bob.loadIncoming.values()].map(({ status, count }) => ({ status, count }))).toEqual([
      { status: 200, count: 4_995 },
      { status: 486, count: 5_006 },
    ]);
    expect(alice.loadIncoming.size).toBe(0);
    // a call after the load is kept whole again
    state.noteCall(bob, call('after', 'incoming', 'ringing'));
    expect(bob.incoming).toEqual(['named', 'c1-in', 'after']);
  });

  it('keeps its tally bounded when every call of a load comes from another user (callers made anonymous one by one)', () => {
    const state = new ScenarioState({ agents: {}, steps: [] } as unknown as Scenario);
    const bob = agent('bob');
    state.loading = true;
    for (let i = 0; i < 5_000; i++) {
      state.noteCall(bob, call(`in-${i}`, 'incoming', 'ringing', undefined, undefined, `Anonymous${i}`));
      state.noteCall(bob, call(`in-${i}`, 'incoming', 'terminated', 200, undefined, `Anonymous${i}`));
    }
    expect(bob.loadIncoming.size).toBeLessThanOrEqual(1001);
    expect([...bob.loadIncoming.values()].reduce((sum, t) => sum + t.count, 0)).toBe(5_000);
  });
});
