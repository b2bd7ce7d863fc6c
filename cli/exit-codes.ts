/** The `veilphone` exit codes CI can trust. */
export const exitCodes = {
  ok: 0,
  /** An expectation did not hold. */
  failed: 1,
  /** The scenario or the command line is invalid. */
  invalid: 2,
  /** The environment failed: a port in use, the lab did not start. */
  environment: 3,
} as const;
