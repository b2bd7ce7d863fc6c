import type { CallSnapshot } from '../api/phone-types.js';
import type { CallLegReport, CallReport } from './scenario-report.js';
import type { CallRuntime, ScenarioState } from './scenario-state.js';

/** A named call as the report shows it: its status, setup time and duration, and each leg's last state. */
export function callReport(state: ScenarioState, call: CallRuntime): CallReport {
  const caller = state.snapshots.get(call.callerLeg)!;
  const legReport = (agent: string, snap: CallSnapshot): CallLegReport => {
    const leg: CallLegReport = { agent, callId: snap.id, sipCallId: snap.sipCallId, state: snap.state };
    if (snap.status !== undefined) leg.status = snap.status;
    if (snap.reason !== undefined) leg.reason = snap.reason;
    if (snap.endedBy !== undefined) leg.endedBy = snap.endedBy;
    if (snap.endCause !== undefined) leg.endCause = snap.endCause;
    if (snap.media !== undefined) leg.media = snap.media;
    if (snap.signaling !== undefined) leg.signaling = snap.signaling;
    if (snap.localAddress !== undefined) leg.localAddress = snap.localAddress;
    const digits = state.digits.get(snap.id);
    if (digits !== undefined) leg.dtmfReceived = digits;
    return leg;
  };
  const report: CallReport = { id: call.id, from: call.from, to: call.to, legs: { caller: legReport(call.from, caller) } };
  if (caller.status !== undefined) report.status = caller.status;
  if (caller.setupMs !== undefined) report.setupMs = caller.setupMs;
  if (caller.answeredAt !== undefined && caller.endedAt !== undefined) report.durationMs = caller.endedAt - caller.answeredAt;
  const calleeAgent = call.calleeAgent;
  const calleeId = calleeAgent !== undefined ? state.calleeLeg(call, calleeAgent) : undefined;
  if (calleeAgent !== undefined && calleeId !== undefined) report.legs.callee = legReport(calleeAgent, state.snapshots.get(calleeId)!);
  return report;
}
