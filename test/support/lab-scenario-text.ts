/** Scenario text: two phones of the embedded lab, alice and bob (who answers by himself), registered, then `steps`. */
export function labPairScenario(steps: readonly string[], header: readonly string[] = []): string {
  return [
    ...header,
    'lab: embedded',
    'agents:',
    '  alice: { user: alice, transport: udp }',
    '  bob: { user: bob, transport: udp, answer: auto }',
    'steps:',
    '  - register: alice',
    '  - register: bob',
    ...steps.map((step) => `  - ${step}`),
    '',
  ].join('\n');
}

/** The same, with alice calling bob as call c1 and the call established before `steps`. */
export function establishedCallScenario(steps: readonly string[], header: readonly string[] = []): string {
  return labPairScenario(['call: { from: alice, to: bob, id: c1 }', 'expect: { call: c1, state: established }', ...steps], header);
}
