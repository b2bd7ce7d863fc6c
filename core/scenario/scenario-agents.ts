import { agentDataDir } from '../phone/data-dir.js';
import type { AccountConfig, AddressEvent } from '../api/phone-types.js';
import type { CallLogStore } from '../calllog/call-log-store.js';
import type { MediaFactoryProvider } from '../phone/media-factory.js';
import { Phone } from '../phone/phone.js';
import type { HouseholdTerminal } from '../phone/household-phone.js';
import type { ProvisionedPhone } from '../phone/provision-phone.js';
import type { SipSockets } from '../sip/transport/sip-sockets.js';
import type { SipTimerValues } from '../sip/transport/udp-retransmitter.js';
import type { ServerUris } from './lab-handle.js';
import { ScenarioEnvironmentError } from './scenario-errors.js';
import type { AddressUse, AgentReport } from './scenario-report.js';
import type { AgentSpec, Scenario } from './scenario-schema.js';
import { agentUser, type AgentRuntime, type ScenarioState } from './scenario-state.js';
import { AgentTrace } from './agent-trace.js';

export interface AgentSetup {
  createSessionDescriptionHandlerFactory: MediaFactoryProvider;
  callLog?: CallLogStore;
  timers?: SipTimerValues;
  /** Where each agent keeps its persistent state (`agents/NAME` inside). */
  dataDir?: string;
  /** Where the agents' SIP sockets come from (the OS's by default). */
  sockets?: SipSockets;
  /** How many messages its trace keeps (agent-trace.ts). */
  traceLimit?: number;
}

/**
 * An agent of the scenario as a Phone with one account: at its server (its own, its domain's lab proxy, or the run's
 * for its transport), provisioned by DHCP when it asks, every event noted in the run's state.
 */
export async function startAgent(state: ScenarioState, name: string, spec: AgentSpec, servers: ServerUris, domain: string | undefined, setup: AgentSetup): Promise<AgentRuntime> {
  const own = state.lab?.domainServers?.[spec.domain ?? state.scenario.domain ?? ''];
  const server = spec.server ?? own?.[spec.transport] ?? servers[spec.transport];
  if (!server && spec.household === undefined) throw new ScenarioEnvironmentError(`agent ${name}: no ${spec.transport} server to use`);
  const trace = new AgentTrace(setup.traceLimit);
  const agentDir = setup.dataDir !== undefined ? agentDataDir(setup.dataDir, name) : undefined;
  let provisioned: ProvisionedPhone | undefined;
  if (spec.provision === 'dhcp') {
    if (!state.lab?.serviceGateway) throw new ScenarioEnvironmentError(`agent ${name}: no service gateway to provision from`);
    try {
      // loaded only by a run that provisions (DHCP, TFTP): a plain run does not pay for it at start-up
      const { provisionPhone } = await import('../phone/provision-phone.js');
      provisioned = await provisionPhone({ gateway: state.lab.serviceGateway, ...(spec.vendor_class !== undefined ? { vendorClass: spec.vendor_class } : {}), ...(spec.client_id !== undefined ? { clientId: spec.client_id } : {}), ...(agentDir !== undefined ? { dataDir: agentDir } : {}) });
    } catch (error) {
      throw new ScenarioEnvironmentError(`agent ${name}: provisioning failed: ${(error as Error).message}`);
    }
  }
  let household: HouseholdTerminal | undefined;
  if (spec.household !== undefined) {
    // Seed 001 Fig. 8 steps 81, 86-87: the allocation request to the room's gateway gives address and number
    if (!state.lab?.household) throw new ScenarioEnvironmentError(`agent ${name}: the lab runs no household building`);
    try {
      const { allocateHouseholdTerminal } = await import('../phone/household-phone.js');
      household = await allocateHouseholdTerminal({ gateway: state.lab.household.dhcp(spec.household), ...(agentDir !== undefined ? { dataDir: agentDir } : {}) });
    } catch (error) {
      throw new ScenarioEnvironmentError(`agent ${name}: no allocation from room ${spec.household}'s gateway: ${(error as Error).message}`);
    }
  }
  const account: AccountConfig = {
    id: name,
    user: household?.account.user ?? spec.user!,
    server: household?.account.server ?? server!,
    transport: spec.transport,
    // the boot file's account for this user: its password, display name and the operator's anonymity, unless the
    // scenario says otherwise below
    ...(provisioned?.accountSettings(spec.user) ?? {}),
    ...(spec.display !== undefined ? { displayName: spec.display } : {}),
    ...(spec.password !== undefined ? { password: spec.password } : {}),
    ...(spec.answer !== undefined ? { answer: spec.answer } : {}),
    ...(spec.anonymity !== undefined && spec.anonymity !== 'none' ? { anonymity: { anonymous: true, mode: spec.anonymity, level: 'id' as const } } : {}),
    ...((spec.domain ?? domain) !== undefined ? { domain: spec.domain ?? domain } : {}),
    ...addressSettings(spec),
    ...(provisioned ? provisioned.account : {}),
    ...(household ? { domain: household.account.domain!, localAddress: household.account.localAddress! } : {}),
    ...(spec.keepalive !== undefined ? { keepalive: { intervalMs: spec.keepalive, timeoutMs: Math.max(200, Math.min(2000, spec.keepalive)) } } : {}),
    ...(spec.direct_calls !== undefined ? { directCalls: spec.direct_calls } : {}),
    ...(spec.dnd !== undefined ? { doNotDisturb: { status: spec.dnd } } : {}),
    // an agent's name forwards to that agent's user
    ...(spec.forward !== undefined ? { forward: { when: spec.forward.when, to: state.scenario.agents[spec.forward.to]?.user ?? spec.forward.to, ...(spec.forward.after !== undefined ? { afterMs: spec.forward.after } : {}), ...(spec.forward.by !== undefined ? { by: spec.forward.by } : {}) } } : {}),
    ...agentTls(spec, state.lab?.tlsFingerprint),
    ...(spec.media !== undefined ? { mediaEncryption: spec.media.encryption } : {}),
    ...(spec.latching !== undefined ? { latching: spec.latching } : {}),
    // off unless asked for, as in SIPp: a tester's call to a peer that sends no RTP lasts as the scenario says
    mediaTimeout: { seconds: spec.media_timeout?.seconds ?? 0, heldSeconds: spec.media_timeout?.held_seconds ?? 0 },
    ...(spec.session_expires ? { sessionExpires: spec.session_expires } : {}),
  };
  const phone = new Phone({
    accounts: [account],
    ...(agentDir !== undefined ? { dataDir: agentDir } : {}),
    maxCalls: agentCallLimit(state.scenario),
    ...(provisioned ? { lease: provisioned.phoneLease } : household ? { lease: household.phoneLease } : {}),
    createSessionDescriptionHandlerFactory: setup.createSessionDescriptionHandlerFactory,
    ...(setup.callLog ? { callLog: setup.callLog } : {}),
    ...(setup.timers ? { timers: setup.timers } : {}),
    ...(setup.sockets ? { sockets: setup.sockets } : {}),
    onTrace: (_account, entry) => trace.append(entry),
    signatureKeys: () => state.lab?.verificationKeys?.(),
  });
  const agent: AgentRuntime = { name, spec, account, phone, trace, incoming: [], loadIncoming: new Map(), addresses: [], ...(provisioned ? { provisioned } : {}), ...(household ? { household } : {}) };
  phone.subscribe((event) => {
    if (event.type === 'call' || event.type === 'incoming') {
      state.noteCall(agent, event.call);
    } else if (event.type === 'registration') {
      agent.registration = event.registration;
    } else if (event.type === 'dtmf') {
      state.digits.set(event.callId, (state.digits.get(event.callId) ?? '') + event.digit);
    } else if (event.type === 'address') {
      agent.addresses.push(event.address);
    }
    state.wake();
  });
  return agent;
}

/** What the report says about an agent: its transport, trace, registration, one-time addresses and lease. */
export function agentReport(agent: AgentRuntime): AgentReport {
  const report: AgentReport = {
    user: agentUser(agent),
    transport: agent.spec.transport,
    trace: agent.trace, // read from its files as the report is written (cli/report-file.ts), not copied here
  };
  if (agent.trace.dropped > 0) report.traceDropped = agent.trace.dropped;
  if (agent.registration) report.registration = agent.registration;
  if (agent.addresses.length > 0) report.addresses = addressHistory(agent.addresses);
  if (agent.provisioned) report.lease = agent.provisioned.summary;
  if (agent.household) report.household = { ...agent.household.household };
  return report;
}

/** The account's address settings from an agent's `address` option. */
function addressSettings(spec: AgentSpec): Pick<AccountConfig, 'address' | 'localAddress'> {
  const option = spec.address;
  if (option === undefined) return {};
  if (option.mode === 'fixed') return { address: { mode: 'fixed' }, ...(option.local !== undefined ? { localAddress: option.local } : {}) };
  const { source, prefix, interface: ifname, applier, dad, fallback, prepare } = option;
  return {
    address: {
      mode: 'temporary',
      source: source ?? (prefix !== undefined ? 'configured' : 'loopback'),
      ...(prefix !== undefined ? { prefix } : {}),
      ...(ifname !== undefined ? { interface: ifname } : {}),
      ...(applier !== undefined ? { applier } : {}),
      ...(dad !== undefined ? { dad } : {}),
      ...(fallback !== undefined ? { fallback } : {}),
      ...(prepare !== undefined ? { prepare } : {}),
    },
  };
}

/** Address events paired up: each address with when it was taken and given back. */
function addressHistory(events: AddressEvent[]): AddressUse[] {
  const uses: AddressUse[] = [];
  for (const event of events) {
    if (event.state === 'in-use') {
      uses.push({ address: event.address, purpose: event.purpose, applier: event.applier, from: event.at });
    } else {
      const use = uses.findLast((u) => u.address === event.address && u.until === undefined);
      if (use) use.until = event.at;
    }
  }
  return uses;
}

/** A tls or wss agent's trust: what its `tls:` says, else the scenario lab's certificate by its fingerprint. */
function agentTls(spec: AgentSpec, labFingerprint: string | undefined): Pick<AccountConfig, 'tls'> {
  if (spec.transport !== 'tls' && spec.transport !== 'wss') return {};
  const own = spec.tls;
  const fingerprint = own?.fingerprint ?? (own?.ca_file === undefined && spec.server === undefined ? labFingerprint : undefined);
  const tls = {
    ...(own?.ca_file !== undefined ? { caFile: own.ca_file } : {}),
    ...(fingerprint !== undefined ? { fingerprint } : {}),
    ...(own?.server_name !== undefined ? { serverName: own.server_name } : {}),
  };
  return Object.keys(tls).length > 0 ? { tls } : {};
}

/** A phone's default call limit; an agent of a scenario with bigger loads takes as many calls at once as they run. */
const defaultCallLimit = 128;

/** The calls an agent takes at once: enough for the scenario's largest `load` `parallel` (either end of it). */
export function agentCallLimit(scenario: Scenario): number {
  return scenario.steps.reduce((most, step) => (step.kind === 'load' ? Math.max(most, step.value.parallel) : most), defaultCallLimit);
}
