import { describe, expect, it } from 'vitest';
import type { CallSnapshot } from '../api/phone-types.js';
import { ScenarioState, type AgentRuntime } from './scenario-state.js';
import type { Scenario } from './scenario-schema.js';

const agent = (name: string): AgentRuntime => ({ name, incoming: [], loadIncoming: new Map() }) as unknown as AgentRuntime;
const call = (id: string, direction: 'incoming' | 'outgoing', state: CallSnapshot['state'], status?: number): CallSnapshot =>
  ({ id, accountId: 'a', direction, state, remote: { shown: 'alice', uri: 'sip:alice@lab', user: 'alice', anonymous: false }, sipCallId: `${id}@lab`, startedAt: 0, localHold: false, remoteHold: false, muted: false, ...(status !== undefined ? { status } : {}) }) as CallSnapshot;

describe('what a run keeps of its calls', () => {
  it("keeps a named call's legs whole, and of a load's calls only those still going: an ended incoming one is counted", () => {
    const state = new ScenarioState({ agents: {}, steps: [] } as unknown as Scenario);
    const alice = agent('alice');
    const bob = agent('bob');
    state.noteCall(bob, call('named', 'incoming', 'ringing'));
    state.loading = true;
    for (let i = 0; i < 10_000; i++) {
      state.noteCall(alice, call(`out-${i}`, 'outgoing', 'calling'));
      state.noteCall(bob, call(`in-${i}`, 'incoming', 'ringing'));
      state.noteCall(bob, call(`in-${i}`, 'incoming', 'established', 200));
      state.noteCall(alice, call(`out-${i}`, 'outgoing', 'terminated', 200));
      if (i < 9_990) state.noteCall(bob, call(`in-${i}`, 'incoming', 'terminated', i % 2 === 0 ? 200 : 486));
    }
    state.noteCall(bob, call('named', 'incoming', 'established', 200)); // a named call going on during the load
    state.loading = false;
    // the load's last ten end after its step is over: still the load's
    for (let i = 9_990; i < 10_000; i++) state.noteCall(bob, call(`in-${i}`, 'incoming', 'terminated', 486));
    expect([...state.snapshots.keys()]).toEqual(['named']);
    expect(state.snapshots.get('named')!.state).toBe('established');
    expect(bob.incoming).toEqual(['named']);
    expect([...bob.loadIncoming.values()].map(({ status, count }) => ({ status, count }))).toEqual([
      { status: 200, count: 4_995 },
      { status: 486, count: 5_005 },
    ]);
    expect(alice.loadIncoming.size).toBe(0);
    // a call after the load is kept whole again
    state.noteCall(bob, call('after', 'incoming', 'ringing'));
    expect(bob.incoming).toEqual(['named', 'after']);
  });
});
