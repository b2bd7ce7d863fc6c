import os from 'node:os';
import type { CallSnapshot } from '../api/phone-types.js';
import type { TraceSignature } from '../api/signature-types.js';
import { hostOfUri } from '../phone/host-of-uri.js';
import { rawCallId } from '../phone/trace-router.js';
import { fingerprintCaller } from '../privacy/caller-fingerprint.js';
import { findIdentityLeaks } from '../privacy/identity-leaks.js';
import { callFailure, signatureMismatch, type SignatureExpectation } from './call-checks.js';
import { rateShortfall } from './call-load.js';
import { StepFailure } from './scenario-errors.js';
import type { StepOf } from './scenario-schema.js';
import { agentUser, type CallRuntime, type ScenarioState } from './scenario-state.js';
import { agentTraceLimit } from './agent-trace.js';

/**
 * The `expect` step: a call leg's state, status, media, DTMF, signatures, failure, and whether its caller is hidden
 * from the callee and known to the carrier; an agent's registration and incoming calls; a load's outcome. Each waits
 * up to `within` for what it expects and fails with what it found instead.
 */
export class ScenarioExpectations {
  constructor(private readonly state: ScenarioState) {}

  async check(step: StepOf<'expect'>): Promise<void> {
    const e = step.value;
    const within = e.within ?? this.state.defaultWithinMs;
    if (e.call !== undefined) {
      const call = this.state.call(e.call);
      const agentName = e.agent ?? call.from;
      const legName = agentName === call.from ? `${agentName}'s leg` : `${agentName}'s leg`;
      const current = (): CallSnapshot | undefined => {
        const legId = agentName === call.from ? call.callerLeg : this.state.calleeLeg(call, agentName);
        return legId === undefined ? undefined : this.state.snapshots.get(legId);
      };
      const describe = (): string => {
        const snap = current();
        return snap ? `it is ${snap.state}${snap.status !== undefined ? ` with ${snap.status} ${snap.reason ?? ''}`.trimEnd() : ''}` : 'that leg never appeared';
      };
      if (e.state !== undefined) {
        await this.state.waitFor(() => (current()?.state === e.state ? true : undefined), within, () => `expected call ${call.id} (${legName}) to be ${e.state} within ${within}ms, but ${describe()}`);
      }
      if (e.hold !== undefined) {
        const holdOf = (snap: CallSnapshot | undefined): string => (snap === undefined ? 'absent' : snap.localHold ? 'local' : snap.remoteHold ? 'remote' : 'none');
        await this.state.waitFor(() => (holdOf(current()) === e.hold ? true : undefined), within, () => `expected call ${call.id} (${legName}) on hold "${e.hold}" within ${within}ms, but its hold is "${holdOf(current())}"`);
      }
      if (e.transfer !== undefined) {
        await this.state.waitFor(() => (current()?.transfer?.state === e.transfer ? true : undefined), within, () => {
          const transfer = current()?.transfer;
          return `expected the transfer of call ${call.id} (${legName}) to be ${e.transfer} within ${within}ms, but it is ${transfer ? `${transfer.state}${transfer.status !== undefined ? ` (${transfer.status})` : ''}` : 'not transferred'}`;
        });
      }
      if (e.caller_hidden !== undefined) await this.expectCallerHidden(call, e.agent ?? call.calleeAgent, e.caller_hidden, within);
      if (e.caller_identified !== undefined) await this.expectCallerIdentified(call, e.agent ?? call.calleeAgent, e.caller_identified, within);
      if (e.dtmf_received !== undefined || e.audio !== undefined || e.rtp !== undefined) {
        await this.expectMedia(e, call, agentName, within, legName);
      }
      if (e.signatures !== undefined) await this.expectSignatures(call, agentName, e.signatures, within, legName);
      if (e.failed !== undefined) await this.expectFailed(call, agentName, e.failed, within, legName);
      if (e.status !== undefined) {
        const final = await this.state.waitFor(
          () => {
            const snap = current();
            return snap && snap.status !== undefined && snap.status >= 200 && (snap.state === 'established' || snap.state === 'terminated') ? snap : undefined;
          },
          within,
          () => `expected call ${call.id} (${legName}) to end its INVITE with ${e.status} within ${within}ms, but ${describe()}`,
        );
        if (final.status !== e.status) throw new StepFailure(`expected call ${call.id} (${legName}) status ${e.status}, got ${final.status} ${final.reason ?? ''}`.trimEnd());
      }
      return;
    }
    if (e.load !== undefined) {
      const load = this.state.loads.find((l) => l.id === e.load!.id)!;
      const { established, max_failed: maxFailed } = e.load;
      if (established !== undefined && load.established < established) throw new StepFailure(`expected load ${load.id} to establish ${established} calls, it established ${load.established} (statuses ${JSON.stringify(load.statuses)})`);
      if (maxFailed !== undefined && load.failed > maxFailed) throw new StepFailure(`expected at most ${maxFailed} failed calls in load ${load.id}, ${load.failed} failed (statuses ${JSON.stringify(load.statuses)})`);
      if (e.load.sustained === true && !load.rate.sustained) throw new StepFailure(`expected load ${load.id} to sustain its rate: ${rateShortfall(load.id, load)!.replace(`load ${load.id}: `, '')}`);
      if (e.agent === undefined) return;
    }
    const agent = this.state.agent(e.agent!);
    if (e.registered !== undefined) {
      await this.state.waitFor(() => ((agent.registration?.state === 'registered') === e.registered ? true : undefined), within, () => `expected ${agent.name} ${e.registered ? '' : 'not '}registered, it is ${agent.registration?.state ?? 'unregistered'}`);
    }
    if (e.fresh_address === true) {
      if (agent.spec.address?.mode !== 'temporary') throw new StepFailure(`${agent.name} is not on one-time addresses (address: { mode: temporary })`);
      const used = (): Set<string | undefined> => new Set(agent.incoming.map((id) => this.state.snapshots.get(id)?.localAddress));
      const registeredFrom = (): string | undefined => {
        const registration = agent.registration;
        if (registration?.state !== 'registered' || registration.contact === undefined) return undefined;
        return hostOfUri(registration.contact)?.replace(/^\[(.*)\]$/, '$1');
      };
      await this.state.waitFor(
        () => {
          const address = registeredFrom();
          return address !== undefined && !used().has(address) ? true : undefined;
        },
        within,
        () => `expected ${agent.name} registered from a receiving address no call has used within ${within}ms, it is ${agent.registration?.state ?? 'unregistered'}${registeredFrom() !== undefined ? ` from ${registeredFrom()}, which a call used` : ''}`,
      );
    }
    if (e.household !== undefined) {
      const held = agent.household?.household;
      if (!held) throw new StepFailure(`${agent.name} is not a household terminal`);
      for (const key of ['number', 'room', 'address'] as const) {
        const wanted = e.household[key];
        if (wanted !== undefined && held[key] !== wanted) throw new StepFailure(`expected ${agent.name}'s household ${key} ${wanted}, its gateway gave ${held[key]}`);
      }
    }
    if (e.incoming !== undefined) {
      const { from_user: fromUser, count, state, status, id, anonymous } = e.incoming;
      const wanted = (c: { user?: string; state: string; status?: number; anonymous: boolean }): boolean =>
        (fromUser === undefined || c.user === fromUser) && (state === undefined || c.state === state) && (status === undefined || c.status === status) && (anonymous === undefined || c.anonymous === anonymous);
      const matching = (): CallSnapshot[] => agent.incoming.map((id) => this.state.snapshots.get(id)!).filter((c) => wanted({ ...(c.remote.user !== undefined ? { user: c.remote.user } : {}), state: c.state, ...(c.status !== undefined ? { status: c.status } : {}), anonymous: c.remote.anonymous }));
      // the ended calls of loads, counted (ScenarioState.noteCall)
      const tallied = (): number => [...agent.loadIncoming.values()].reduce((sum, t) => sum + (wanted({ ...t, state: 'terminated' }) ? t.count : 0), 0);
      const howMany = (): number => matching().length + tallied();
      const received = (): string => {
        const seen = agent.incoming.map((id) => {
          const snap = this.state.snapshots.get(id)!;
          return `${snap.remote.user ?? snap.remote.uri} (${snap.state}${snap.status !== undefined ? ` ${snap.status}` : ''}${snap.remote.anonymous ? ', anonymous' : ''})`;
        });
        for (const t of agent.loadIncoming.values()) seen.push(`${t.count} × ${t.user ?? t.uri} (terminated${t.status !== undefined ? ` ${t.status}` : ''}${t.anonymous ? ', anonymous' : ''}, from a load)`);
        return seen.length ? seen.join(', ') : 'none';
      };
      const calls = `${anonymous === true ? 'anonymous ' : anonymous === false ? 'presented ' : ''}call(s)${fromUser !== undefined ? ` from ${fromUser}` : ''}${state !== undefined ? ` ${state}` : ''}${status !== undefined ? ` with ${status}` : ''}`;
      const missed = (): string => `expected ${agent.name} to have ${count ?? 'a'} ${calls} within ${within}ms; received ${received()}`;
      if (count === 0) {
        // "no such call": it holds only over the whole of `within`; one arriving fails it at once
        const arrived = await this.state.waitFor(() => (howMany() > 0 ? true : undefined), within, () => '').catch(() => false);
        if (arrived) throw new StepFailure(`expected ${agent.name} to have no ${calls} within ${within}ms; received ${received()}`);
      } else {
        // A count that only grows (no state asked, or terminated) is failed at once once past `count`: it cannot come back.
        const onlyGrows = state === undefined || state === 'terminated';
        const outcome = await this.state.waitFor(() => (count === undefined ? (howMany() > 0 ? 'met' : undefined) : howMany() === count ? 'met' : onlyGrows && howMany() > count ? 'over' : undefined), within, missed);
        if (outcome === 'over') throw new StepFailure(`expected ${agent.name} to have ${count} ${calls}, it has ${howMany()}; received ${received()}`);
      }
      if (id !== undefined) {
        // The named call is "placed" by nobody in the scenario: its one leg is the receiving agent's.
        const leg = matching()[0];
        if (!leg) throw new StepFailure(`cannot name call ${id}: the only matching calls at ${agent.name} came from a load, which keeps counts, not calls`);
        this.state.calls.set(id, { id, from: agent.name, to: leg.remote.user ?? leg.remote.uri, callerLeg: leg.id });
      }
    }
  }

  private async expectMedia(e: StepOf<'expect'>['value'], call: CallRuntime, agentName: string, within: number, legName: string): Promise<void> {
    const legId = (): string | undefined => (agentName === call.from ? call.callerLeg : this.state.calleeLeg(call, agentName));
    const leg = await this.state.waitFor(legId, within, () => `call ${call.id} has no leg at ${agentName}`);
    const agent = this.state.agent(agentName);
    if (e.dtmf_received !== undefined) {
      const wanted = e.dtmf_received.toUpperCase();
      await this.state.waitFor(
        () => ((this.state.digits.get(leg) ?? '').endsWith(wanted) ? true : undefined),
        within,
        () => `expected ${legName} of ${call.id} to receive DTMF "${wanted}" within ${within}ms, got "${this.state.digits.get(leg) ?? ''}"`,
      );
    }
    if (e.audio !== undefined) {
      const { tone_hz: hz, min_share: minShare } = e.audio;
      const media = await this.state.media(agent, leg, within);
      await this.state.poll(
        () => media.recent.toneShare(hz) >= minShare,
        within,
        () => `expected ${legName} of ${call.id} to receive a ${hz} Hz tone (≥ ${Math.round(minShare * 100)} % of the energy) within ${within}ms; it is ${Math.round(media.recent.toneShare(hz) * 100)} % after ${media.stats().packetsReceived} packets`,
      );
    }
    if (e.rtp !== undefined) {
      const rtp = e.rtp;
      const media = await this.state.media(agent, leg, within);
      if (rtp.codec !== undefined && media.stats().codec !== rtp.codec) throw new StepFailure(`expected ${legName} of ${call.id} to use ${rtp.codec}, it uses ${media.stats().codec ?? 'nothing'}`);
      if (rtp.min_received !== undefined) {
        await this.state.poll(() => media.stats().packetsReceived >= rtp.min_received!, within, () => `expected ${legName} of ${call.id} to receive ${rtp.min_received} RTP packets within ${within}ms, got ${media.stats().packetsReceived}`);
      }
      if (rtp.flowing !== undefined) {
        // Flowing means packets arrive and leave: both counters move over 300 ms (or both stand still).
        const before = media.stats();
        await new Promise((resolve) => setTimeout(resolve, 300));
        const after = media.stats();
        const moving = after.packetsReceived > before.packetsReceived && after.packetsSent > before.packetsSent;
        const still = after.packetsReceived === before.packetsReceived && after.packetsSent === before.packetsSent;
        if (rtp.flowing ? !moving : !still) {
          throw new StepFailure(`expected media on ${legName} of ${call.id} to be ${rtp.flowing ? 'flowing' : 'stopped'}: in 300 ms it sent ${after.packetsSent - before.packetsSent} and received ${after.packetsReceived - before.packetsReceived} packets`);
        }
      }
      if (rtp.encrypted !== undefined) {
        const kind = media.stats().encryption.kind;
        if (!rtp.encrypted && kind !== 'none') throw new StepFailure(`expected ${legName} of ${call.id} to be plain RTP, it is ${kind}`);
        if (rtp.encrypted) {
          if (kind !== 'srtp') throw new StepFailure(`expected ${legName} of ${call.id} to be SRTP, it is plain RTP`);
          // both directions: SRTP sent, and SRTP received that passed authentication (RFC 3711 §3.3), none refused
          await this.state.poll(() => (media.srtpStats()?.sentRtp ?? 0) > 0 && (media.srtpStats()?.receivedRtp ?? 0) > 0, within, () => `expected SRTP both ways on ${legName} of ${call.id} within ${within}ms: sent ${media.srtpStats()?.sentRtp ?? 0}, received ${media.srtpStats()?.receivedRtp ?? 0}`);
          // what failed authentication or the replay window fails the step; a datagram too short to be SRTP at all
          // (an empty keep-alive, RFC 6263 §4.6) is dropped and counted but is no SRTP packet
          const refused = Object.entries(media.srtpStats()?.rejected ?? {}).filter(([code]) => code !== 'TOO_SHORT' && code !== 'BAD_HEADER');
          if (refused.length > 0) throw new StepFailure(`expected every SRTP packet on ${legName} of ${call.id} to authenticate; refused: ${JSON.stringify(Object.fromEntries(refused))}`);
        }
      }
      if (rtp.max_loss_pct !== undefined) {
        const stats = media.stats();
        if (stats.packetsReceived === 0) throw new StepFailure(`expected ${legName} of ${call.id} to have received RTP, it has none`);
        if (stats.lossPercent > rtp.max_loss_pct) throw new StepFailure(`expected at most ${rtp.max_loss_pct} % RTP loss on ${legName} of ${call.id}, measured ${stats.lossPercent} % (${stats.packetsLost} of ${stats.packetsLost + stats.packetsReceived})`);
      }
    }
  }

  /**
   * Privacy check on what the callee really received (issue 4, "Proof that nothing leaks"): every message of the call
   * in its trace is searched for the caller's fingerprint, read from the caller's own trace — user, display name,
   * domain (when it is a name and not the callee's own), host names, the addresses of its other identities and its
   * fixed address (the call's one-time address may show), instance ids, GRUUs, Call-ID host names. An address the
   * caller shares with its server (a fixed-address agent beside the embedded lab on loopback) cannot be told apart.
   */
  private async expectCallerHidden(call: CallRuntime, calleeName: string | undefined, hidden: boolean, within: number): Promise<void> {
    if (calleeName === undefined) throw new StepFailure(`call ${call.id}: name the receiving agent with "agent"`);
    const leg = await this.state.waitFor(() => this.state.calleeLeg(call, calleeName), within, () => `no incoming call for ${call.id} at ${calleeName}`);
    // the fingerprint needs the caller's whole run (its registrations, its other identities), the scan every message
    this.requireWholeTraces('caller_hidden', [call.from, calleeName]);
    const sipCallId = this.state.snapshots.get(leg)!.sipCallId;
    const caller = this.state.agent(call.from);
    const callerSnap = this.state.snapshots.get(call.callerLeg)!;
    const domain = this.state.domainOf(caller);
    const calleeDomain = this.state.domainOf(this.state.agent(calleeName));
    const host = os.hostname();
    const fingerprint = fingerprintCaller({
      user: agentUser(caller),
      ...(caller.spec.display !== undefined ? { displayName: caller.spec.display } : {}),
      ...(domain !== undefined && !/^[\d.:[\]]+$/.test(domain) && domain.toLowerCase() !== calleeDomain?.toLowerCase() ? { domain } : {}),
      ...(host.length >= 4 && host !== 'localhost' ? { hostNames: [host] } : {}),
      messages: [...caller.trace],
      callId: callerSnap.sipCallId,
      ...(caller.spec.address?.mode === 'temporary' && callerSnap.localAddress !== undefined ? { oneTimeAddress: callerSnap.localAddress } : {}),
      networkAddresses: this.state.networkAddresses(),
    });
    const received = [...this.state.agent(calleeName).trace].filter((entry) => entry.dir === 'in' && rawCallId(entry.raw) === sipCallId);
    const leaks = received.flatMap((entry) => findIdentityLeaks(entry.raw, fingerprint).map((leak) => `${entry.raw.split('\r\n')[0]}: ${leak.where} has ${leak.found}`));
    if (hidden && leaks.length > 0) throw new StepFailure(`the caller shows in what ${calleeName} received: ${leaks.slice(0, 5).join('; ')}`);
    if (!hidden && leaks.length === 0) throw new StepFailure(`expected ${calleeName} to see who called, but nothing names ${agentUser(caller)}`);
    if (received.length === 0) throw new StepFailure(`${calleeName} received no message of call ${call.id}`);
  }

  /**
   * A check that reads agents' traces cannot be made once one of them dropped old messages (agent-trace.ts): a leak or
   * a lost request could be among them. It fails saying so, never passes on what is left.
   */
  private requireWholeTraces(check: string, agentNames: string[]): void {
    for (const name of agentNames) {
      const dropped = this.state.agent(name).trace.dropped;
      if (dropped > 0) throw new StepFailure(`cannot check ${check}: ${name}'s trace no longer holds its ${dropped} oldest messages (an agent keeps at most ${agentTraceLimit}; the call log has them all)`);
    }
  }

  /** Seed 000: anonymous to the callee, known to the carrier: the lab's conversion tables name the real caller. */
  private async expectCallerIdentified(call: CallRuntime, calleeName: string | undefined, identified: boolean, within: number): Promise<void> {
    if (calleeName === undefined) throw new StepFailure(`call ${call.id}: name the receiving agent with "agent"`);
    const identify = this.state.lab?.identify;
    if (!identify) throw new StepFailure('caller_identified needs the embedded lab (its conversion tables)');
    const leg = await this.state.waitFor(() => this.state.calleeLeg(call, calleeName), within, () => `no incoming call for ${call.id} at ${calleeName}`);
    const shown = this.state.snapshots.get(leg)!;
    const caller = this.state.agent(call.from);
    const domain = this.state.domainOf(caller);
    const found = identify.call(this.state.lab, shown.sipCallId);
    const matches = found !== undefined && found.realUser.split('@')[0] === caller.spec.user && (domain === undefined || found.realUser.split('@').slice(1).join('@').toLowerCase() === domain.toLowerCase());
    if (identified && !matches) throw new StepFailure(`the operator cannot identify the caller of ${call.id} (shown to ${calleeName} as ${shown.remote.uri}, Call-ID ${shown.sipCallId}): the tables say ${found ? found.realUser : 'nothing'}`);
    if (!identified && found !== undefined) throw new StepFailure(`expected no conversion record for ${call.id}, the tables name ${found.realUser}`);
  }

  /** The signatures this leg's phone decoded in the call's messages, checked with the lab's keys. */
  private async expectSignatures(call: CallRuntime, agentName: string, wanted: SignatureExpectation, within: number, legName: string): Promise<void> {
    const agent = this.state.agent(agentName);
    const leg = await this.state.waitFor(() => (agentName === call.from ? call.callerLeg : this.state.calleeLeg(call, agentName)), within, () => `call ${call.id} has no leg at ${agentName}`);
    const deadline = Date.now() + within;
    for (;;) {
      const detail = await agent.phone.callDetail(leg);
      const found: Array<{ signature: TraceSignature; where: string }> = (detail?.messages ?? []).flatMap((m) =>
        (m.signatures ?? []).map((signature) => ({ signature, where: `${m.dir === 'in' ? 'received' : 'sent'} ${m.raw.slice(0, m.raw.indexOf('\r\n'))} (${signature.header}[${signature.index}])` })),
      );
      const mismatch = signatureMismatch(found, wanted);
      if (mismatch === undefined) return;
      if (Date.now() > deadline) throw new StepFailure(`expected ${legName} of ${call.id} to carry signatures ${JSON.stringify(wanted)}: ${mismatch}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * A call failed when its leg ended without being answered, or — at the end of `within` — was never established or
   * sent a request that never reached the other side (what a proxy dropping forged routing headers does, seed 002).
   */
  private async expectFailed(call: CallRuntime, agentName: string, failed: boolean, within: number, legName: string): Promise<void> {
    const other = agentName === call.from ? call.calleeAgent : call.from;
    const evaluate = (): string | undefined => {
      const legId = agentName === call.from ? call.callerLeg : this.state.calleeLeg(call, agentName);
      const snap = legId !== undefined ? this.state.snapshots.get(legId) : undefined;
      const otherLeg = other === undefined ? undefined : other === call.from ? call.callerLeg : this.state.calleeLeg(call, other);
      const otherSnap = otherLeg !== undefined ? this.state.snapshots.get(otherLeg) : undefined;
      return callFailure(
        snap && { name: agentName, snapshot: snap, trace: this.state.agent(agentName).trace },
        otherSnap && other !== undefined ? { name: other, snapshot: otherSnap, trace: this.state.agent(other).trace } : undefined,
      );
    };
    const deadline = Date.now() + within;
    // An unanswered end shows early; a never-established call or a lost request only once `within` is over.
    while (Date.now() < deadline) {
      const snap = this.state.snapshots.get(agentName === call.from ? call.callerLeg : (this.state.calleeLeg(call, agentName) ?? ''));
      if (failed && snap?.state === 'terminated' && snap.answeredAt === undefined) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    this.requireWholeTraces('failed', [agentName, ...(other !== undefined ? [other] : [])]);
    const reason = evaluate();
    if (failed && reason === undefined) throw new StepFailure(`expected call ${call.id} (${legName}) to fail, but it was established and every request of it got through`);
    if (!failed && reason !== undefined) throw new StepFailure(`expected call ${call.id} (${legName}) to work, but ${reason}`);
  }
}
