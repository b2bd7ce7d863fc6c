import { z } from 'zod';
import type { ProxyFailureCounters, ProxyFailureReading } from '../api/signature-types.js';

const verdict = z.enum(['valid', 'invalid', 'unknown-key', 'expired', 'missing']);
const count = z.number().int().nonnegative();

/** The part of the lab's admin snapshot the pane shows (`sip.signing.failures`, lab/signing/failure-monitor.ts). */
const failuresSchema = z.object({
  total: count,
  byFamily: z.record(z.string(), count),
  byVerdict: z.partialRecord(verdict, count),
  perSecond: count,
  peakPerSecond: count,
  threshold: z.number().positive(),
  alerting: z.boolean(),
  alerts: z.array(z.object({ at: z.number(), perSecond: count, threshold: z.number(), last: z.object({ family: z.string(), verdict, message: z.string() }) })),
});

const snapshotSchema = z.object({ sip: z.object({ signing: z.object({ failures: z.unknown() }).optional() }) });

/** Where the phone reads the signing proxy's counters: the lab's admin view over HTTP, or a lab in the same process. */
export type SigningProxySource = { adminUrl: string } | { name: string; failures: () => unknown };

/** The longest the pane waits for the admin view; a call's details are shown without the counters after that. */
const readTimeoutMs = 2000;

/**
 * SPEC E: the proxy's failure counters (total, by family and verdict, per second against the threshold, alerts) for the
 * diagnostics pane. Anything that stops the reading — no answer, a refusal, a lab that does not sign, a view of another
 * shape — is the reading's `problem`, shown in the pane instead of the counters.
 */
export async function readSigningProxy(source: SigningProxySource, now: () => number = Date.now): Promise<ProxyFailureReading> {
  if ('failures' in source) return reading(() => source.failures(), source.name, now);
  // the admin URL carries its access token: the pane names the endpoint only
  const from = source.adminUrl.replace(/[?#].*$/, '');
  let body: unknown;
  try {
    const response = await fetch(source.adminUrl, { signal: AbortSignal.timeout(readTimeoutMs), headers: { accept: 'application/json' } });
    if (!response.ok) return { problem: `the admin view answered ${response.status}`, from };
    body = await response.json();
  } catch (error) {
    return { problem: `cannot read the admin view: ${(error as Error).message}`, from };
  }
  const snapshot = snapshotSchema.safeParse(body);
  if (!snapshot.success) return { problem: 'the admin view is not a lab snapshot', from };
  return reading(() => snapshot.data.sip.signing?.failures, from, now);
}

function reading(failures: () => unknown, from: string, now: () => number): ProxyFailureReading {
  const value = failures();
  if (value === undefined) return { problem: 'the proxy does not sign routing headers', from };
  const parsed = failuresSchema.safeParse(value);
  if (!parsed.success) return { problem: `the proxy's counters are not in the expected form: ${parsed.error.issues[0]?.message ?? 'invalid'}`, from };
  const counters: ProxyFailureCounters = parsed.data;
  return { counters, readAt: now(), from };
}
