/** The run could not happen (lab or sockets failed); exit code 3 territory. */
export class ScenarioEnvironmentError extends Error {
  override readonly name = 'ScenarioEnvironmentError';
}

/** A step did not do or find what it says; the report gives the message as the step's reason. */
export class StepFailure extends Error {}
