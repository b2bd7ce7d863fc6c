import type { SipTapEntry } from '../sip/transport/message-tap.js';

/**
 * How many SIP messages an agent's trace keeps in memory and in the report: at most 20,000 (about 20 MB), the newest;
 * once past it, the oldest quarter goes. A load of a million calls would otherwise hold every message until the run
 * ends; its calls are in the call log whole. A check that reads traces (caller_hidden, failed) refuses to judge once
 * an agent's trace dropped anything (scenario-expectations.ts), rather than judge on part of it.
 */
export const agentTraceLimit = 20_000;

/**
 * Append a message to an agent's trace. Past `limit` the oldest quarter goes at once (so trimming costs O(1) per
 * message over time); returns how many were dropped by this append.
 */
export function appendToTrace(trace: SipTapEntry[], entry: SipTapEntry, limit = agentTraceLimit): number {
  trace.push(entry);
  if (trace.length <= limit) return 0;
  const dropped = Math.max(1, Math.floor(limit / 4));
  trace.splice(0, dropped);
  return dropped;
}
