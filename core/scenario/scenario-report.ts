import type { CallEndCause, CallMediaSnapshot, CallSignaling, RegistrationSnapshot } from '../api/phone-types.js';
import type { LoadPlan, LoadSummary } from './call-load.js';

export interface StepReport {
  index: number;
  step: string;
  ok: boolean;
  ms: number;
  reason?: string;
}

export interface CallLegReport {
  agent: string;
  callId: string;
  sipCallId: string;
  state: string;
  status?: number;
  reason?: string;
  endedBy?: string;
  /** The phone ended this answered leg by itself: no media from the far end (`media_timeout`), or its session expired. */
  endCause?: CallEndCause;
  /** This leg's audio: codec, packets sent and received, loss, jitter, encryption (SRTP with its suite, or none). */
  media?: CallMediaSnapshot;
  /** This leg's signalling: its transport, and the TLS version, cipher and server fingerprint over TLS or WSS. */
  signaling?: CallSignaling;
  /** DTMF digits this leg received (RFC 4733 and SIP INFO). */
  dtmfReceived?: string;
  /** The address this leg presented in Via, Contact and SDP (its one-time address in temporary mode). */
  localAddress?: string;
}

export interface CallReport {
  id: string;
  from: string;
  to: string;
  status?: number;
  /** INVITE sent → 2xx received, on the caller's leg. */
  setupMs?: number;
  /** Answer → end, when the call was answered. */
  durationMs?: number;
  legs: { caller: CallLegReport; callee?: CallLegReport };
}

export interface TraceEntryReport {
  dir: 'in' | 'out';
  at: number;
  transport: string;
  local: string;
  remote: string;
  raw: string;
}

/** One one-time address an agent held: for a call (`sending`) or a receiving period (`receiving`). */
export interface AddressUse {
  address: string;
  purpose: 'sending' | 'receiving';
  applier: string;
  from: number;
  until?: number;
}

export interface AgentReport {
  user: string;
  transport: string;
  registration?: RegistrationSnapshot;
  /** Temporary-address agents: every address taken, in order, with when it was given back. */
  addresses?: AddressUse[];
  /** DHCP-provisioned agents: the leased address, port range, soft switches (primary first) and NAT address. */
  lease?: { address: string; ports: { min: number; max: number }; mgc: string[]; nat?: string };
  /** Household terminals (seed 001): the room, the number and address its gateway allotted, and the gateway. */
  household?: { room: string; number: string; address: string; gateway: string };
  /** Its messages, oldest first: read from where the run keeps them (core/scenario/agent-trace.ts) as they are iterated. */
  trace: Iterable<TraceEntryReport> & { readonly length: number };
  /** How many of its oldest messages the trace no longer holds (it keeps at most 20,000, the newest; the call log has all). */
  traceDropped?: number;
}

/** A `load` step: what it asked for and what came of it (core/scenario/call-load.ts). */
export interface LoadReport extends LoadSummary {
  id: string;
  from: string;
  to: string;
  /** What was asked; `workers` when threads placed the calls (load-workers.ts). */
  plan: LoadPlan & { holdMs: number; workers?: number };
}

export interface ScenarioReport {
  ok: boolean;
  name?: string;
  startedAt: string;
  durationMs: number;
  /** Why the run stopped early, for environment failures. */
  error?: string;
  steps: StepReport[];
  calls: CallReport[];
  /** Every `load` step's outcome, in order. */
  loads?: LoadReport[];
  agents: Record<string, AgentReport>;
  lab?: unknown;
  /** What could not be torn down after the steps (an agent that did not shut down, a lease or lab not stopped); `ok` stands. */
  teardownProblems?: string[];
}

/** JUnit XML (the common Surefire shape CI systems read): one testcase per step. */
export function toJUnit(report: ScenarioReport, suiteName = report.name ?? 'veilphone scenario'): string {
  const failures = report.steps.filter((s) => !s.ok).length;
  const cases = report.steps.map((step) => {
    const head = `    <testcase classname="${xml(suiteName)}" name="${xml(`${String(step.index + 1).padStart(3, '0')} ${step.step}`)}" time="${(step.ms / 1000).toFixed(3)}"`;
    return step.ok ? `${head}/>` : `${head}>\n      <failure message="${xml(step.reason ?? 'failed')}"/>\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites tests="${report.steps.length}" failures="${failures}" time="${(report.durationMs / 1000).toFixed(3)}">`,
    `  <testsuite name="${xml(suiteName)}" tests="${report.steps.length}" failures="${failures}" errors="${report.error ? 1 : 0}" time="${(report.durationMs / 1000).toFixed(3)}" timestamp="${xml(report.startedAt)}">`,
    ...cases,
    ...(report.error ? [`    <system-err>${xml(report.error)}</system-err>`] : []),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

function xml(text: string): string {
  // eslint-disable-next-line no-control-regex -- characters XML 1.0 cannot carry at all
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '?').replace(/[<>&"']/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[ch]!);
}
