import { describe, expect, it } from 'vitest';
import { parseScenario } from './load-scenario.js';

const valid = `
lab: embedded
agents:
  alice: { user: alice, display: "Alice Liddell", password: secret, transport: udp }
  bob:   { user: bob, transport: tcp, answer: auto }
steps:
  - register: alice
  - register: bob
  - call: { from: alice, to: bob, id: c1 }
  - expect: { call: c1, state: established, within: 3s }
  - wait: 300ms
  - hangup: { call: c1 }
  - expect: { call: c1, state: terminated, status: 200 }
  - reject: { call: c1, by: bob }
  - unregister: alice
`;

describe('parseScenario', () => {
  it('reads the v1 format with shorthands, durations and defaults', () => {
    const scenario = parseScenario(valid);
    expect(scenario.lab).toEqual({ mode: 'embedded' });
    expect(scenario.agents.bob).toMatchObject({ transport: 'tcp', answer: { kind: 'auto' } });
    expect(scenario.steps.map((s) => s.kind)).toEqual(['register', 'register', 'call', 'expect', 'wait', 'hangup', 'expect', 'reject', 'unregister']);
    expect(scenario.steps[3]).toMatchObject({ kind: 'expect', value: { within: 3000 } });
    expect(scenario.steps[4]).toMatchObject({ kind: 'wait', value: 300 });
    expect(scenario.steps[7]).toMatchObject({ kind: 'reject', value: { status: 486 } });
  });

  it.each([
    ['a wait', '- wait: 3000000000', 'steps[4].wait'],
    ['a within', '- expect: { agent: alice, registered: false, within: 99999999999999999999 }', 'steps[4].expect.within'],
    ['a timeout in hours', '- wait: 1500m', 'steps[4].wait'],
  ])('refuses %s longer than a day (Node fired such a timer after 1 ms)', (_what, step, path) => {
    expect(() => parseScenario(valid.replace('- wait: 300ms', step), 'x.yaml')).toThrowError(expect.objectContaining({ code: 'INVALID', path, message: expect.stringContaining('longer than a day') }));
    expect(parseScenario(valid.replace('- wait: 300ms', '- wait: 1440m')).steps[4]).toMatchObject({ value: 86_400_000 });
    expect(() => parseScenario(valid.replace('answer: auto }', 'answer: "auto:3000000s" }'), 'x.yaml')).toThrowError(expect.objectContaining({ code: 'INVALID', message: expect.stringContaining('at most a day') }));
  });

  it('reads a load of calls with its defaults, and an expectation on it', () => {
    const scenario = parseScenario(valid.replace('- wait: 300ms', '- load: { from: alice, to: 184bob, id: l1, calls: 20, rate: 5 }\n  - expect: { load: { id: l1, established: 20 } }'));
    expect(scenario.steps[4]).toMatchObject({ kind: 'load', value: { calls: 20, rate: 5, parallel: 10, hold: 0, to: '184bob' } });
    expect(scenario.steps[5]).toMatchObject({ kind: 'expect', value: { load: { id: 'l1', established: 20 } } });
  });

  it('reads JSON too, and a server instead of a lab', () => {
    const scenario = parseScenario(JSON.stringify({ server: 'sip:127.0.0.1:5060', agents: { a: { user: 'a' } }, steps: [{ register: 'a' }] }));
    expect(scenario.server).toEqual({ udp: 'sip:127.0.0.1:5060', tcp: 'sip:127.0.0.1:5060', ws: 'sip:127.0.0.1:5060' });
  });

  it('takes loads at SIPp\'s scale: 2000 calls/s, 5000 at once, a million calls, or a duration', () => {
    const big = parseScenario(valid.replace('- wait: 300ms', '- load: { from: alice, to: bob, id: l1, calls: 1000000, rate: 2000, parallel: 5000 }'));
    expect(big.steps[4]).toMatchObject({ kind: 'load', value: { calls: 1_000_000, rate: 2000, parallel: 5000 } });
    const timed = parseScenario(valid.replace('- wait: 300ms', '- load: { from: alice, to: bob, id: l1, duration: 30s, rate: 300 }\n  - expect: { load: { id: l1, max_failed: 0, sustained: true } }'));
    expect(timed.steps[4]).toMatchObject({ kind: 'load', value: { duration: 30_000, rate: 300 } });
    expect((timed.steps[4]!.value as { calls?: number }).calls).toBeUndefined();
    expect(timed.steps[5]).toMatchObject({ kind: 'expect', value: { load: { sustained: true } } });
  });

  it.each([
    ['a rate', '{ calls: 10, rate: 2001 }', 'rate', 'at most 2000 calls per second'],
    ['a parallel', '{ calls: 10, rate: 10, parallel: 5001 }', 'parallel', 'at most 5000 calls at once'],
    ['a number of calls', '{ calls: 2000000, rate: 10 }', 'calls', 'at most 1000000 calls'],
    ['a zero rate', '{ calls: 10, rate: 0 }', 'rate', 'a rate above 0 calls per second'],
  ])('refuses %s beyond the load limits with a message naming the limit', (_what, load, key, message) => {
    const text = valid.replace('- wait: 300ms', `- load: { from: alice, to: bob, id: l1, ${load.slice(2)}`);
    expect(() => parseScenario(text, 'x.yaml')).toThrowError(expect.objectContaining({ code: 'INVALID', path: `steps[4].load.${key}`, message: expect.stringContaining(message) }));
  });

  it.each([
    ['an unknown agent key', valid.replace('answer: auto', 'answr: auto'), 'agents.bob.answr'],
    ['a bad transport', valid.replace('transport: tcp', 'transport: sctp'), 'agents.bob.transport'],
    ['a bad answer mode', valid.replace('answer: auto', 'answer: reject:200'), 'agents.bob.answer'],
    ['an unknown step', valid.replace('- wait: 300ms', '- sleep: 300ms'), 'steps[4].sleep'],
    ['a step with two keys', valid.replace('- wait: 300ms', '- { wait: 1s, register: bob }'), 'steps[4]'],
    ['a bad duration', valid.replace('within: 3s', 'within: soon'), 'steps[3].expect.within'],
    ['a missing call field', valid.replace('{ from: alice, to: bob, id: c1 }', '{ from: alice, id: c1 }'), 'steps[2].call.to'],
    ['an unknown agent in a step', valid.replace('- register: bob', '- register: carol'), 'steps[1].register'],
    ['an unknown call id', valid.replace('hangup: { call: c1 }', 'hangup: { call: c9 }'), 'steps[5].hangup.call'],
    ['an extra key in a step', valid.replace('hangup: { call: c1 }', 'hangup: { call: c1, force: true }'), 'steps[5].hangup.force'],
    ['no lab nor server', valid.replace('lab: embedded', ''), 'lab'],
    ['a load above the limits', valid.replace('- wait: 300ms', '- load: { from: alice, to: bob, id: l1, calls: 1000001, rate: 10 }'), 'steps[4].load.calls'],
    ['a load with neither calls nor duration', valid.replace('- wait: 300ms', '- load: { from: alice, to: bob, id: l1, rate: 10 }'), 'steps[4].load.calls'],
    ['a load with a bad duration', valid.replace('- wait: 300ms', '- load: { from: alice, to: bob, id: l1, duration: forever, rate: 10 }'), 'steps[4].load.duration'],
    ['a load without a rate', valid.replace('- wait: 300ms', '- load: { from: alice, to: bob, id: l1, calls: 5 }'), 'steps[4].load.rate'],
    ['an expectation on a load not run yet', valid.replace('- wait: 300ms', '- expect: { load: { id: l1, max_failed: 0 } }'), 'steps[4].expect.load.id'],
    ['an unknown conversion placement', valid.replace('lab: embedded', 'lab: { mode: embedded, conversion: { placement: everywhere } }'), 'lab.conversion.placement'],
    ['an agent without a domain among agents in several', valid.replace('transport: udp }', 'transport: udp, domain: a.lab }').replace('answer: auto }', 'answer: auto, domain: b.lab }').replace('password: secret,', 'password: secret,').replace('bob:   { user: bob, transport: tcp, answer: auto, domain: b.lab }', 'bob:   { user: bob, transport: tcp, answer: auto, domain: b.lab }\n  carol: { user: carol }'), 'agents.carol.domain'],
  ])('names the path of %s', (_what, text, path) => {
    expect(() => parseScenario(text, 'x.yaml')).toThrowError(expect.objectContaining({ code: 'INVALID', path }));
  });

  it('reads where the lab network converts anonymous calls', () => {
    const scenario = parseScenario(valid.replace('lab: embedded', 'lab: { mode: embedded, conversion: { placement: carrier, domain: carrier.example } }'));
    expect(scenario.lab).toEqual({ mode: 'embedded', conversion: { placement: 'carrier', domain: 'carrier.example' } });
    const steps = parseScenario(valid.replace('- wait: 300ms', '- expect: { call: c1, agent: bob, caller_identified: true, caller_hidden: true }')).steps;
    expect(steps[4]).toMatchObject({ kind: 'expect', value: { caller_identified: true, caller_hidden: true } });
  });

  it('rejects text that is not YAML', () => {
    expect(() => parseScenario('agents: [unclosed')).toThrowError(expect.objectContaining({ code: 'SYNTAX' }));
  });
});
