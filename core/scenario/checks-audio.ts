import type { Scenario } from './scenario-schema.js';

/**
 * Whether a scenario listens to what its calls receive: an `expect` with `audio` (a tone's share of the received
 * energy, read from the last 2 s each media session keeps). A run without one keeps no received audio.
 */
export function checksAudio(scenario: Pick<Scenario, 'steps'>): boolean {
  return scenario.steps.some((step) => step.kind === 'expect' && step.value.audio !== undefined);
}
