import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { scenarioHeaderSchema, stepSchemas, type Scenario, type ScenarioStep, type StepKind } from './scenario-schema.js';

/** A scenario that cannot run: the message names the file and the path of the offending key. */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  constructor(
    readonly code: 'UNREADABLE' | 'SYNTAX' | 'INVALID',
    message: string,
    /** Path of the offending key, e.g. `steps[2].call.to`. */
    readonly path?: string,
  ) {
    super(message);
  }
}

export function loadScenarioFile(file: string): Scenario {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ScenarioError('UNREADABLE', `cannot read ${file}: ${(error as Error).message}`);
  }
  return { ...parseScenario(text, file), baseDir: path.dirname(path.resolve(file)) };
}

/** Parse YAML or JSON text (JSON is YAML) and validate it. */
export function parseScenario(text: string, source = 'scenario'): Scenario {
  let data: unknown;
  try {
    data = YAML.parse(text, { maxAliasCount: 100 });
  } catch (error) {
    throw new ScenarioError('SYNTAX', `${source}: not valid YAML/JSON: ${(error as Error).message}`);
  }
  return validateScenario(data, source);
}

export function validateScenario(data: unknown, source = 'scenario'): Scenario {
  const header = scenarioHeaderSchema.safeParse(data);
  if (!header.success) throw invalid(source, header.error.issues, []);
  const value = header.data;
  const steps: ScenarioStep[] = value.steps.map((raw, index) => parseStep(raw, index, source));
  const agents = Object.keys(value.agents);
  const callIds = new Set<string>();
  const loadIds = new Set<string>();
  steps.forEach((step, index) => checkReferences(step, index, agents, callIds, loadIds, source));
  const scenario: Scenario = { agents: value.agents, steps };
  if (value.name !== undefined) scenario.name = value.name;
  if (value.lab !== undefined) scenario.lab = value.lab;
  if (value.server !== undefined) scenario.server = typeof value.server === 'string' ? { udp: value.server, tcp: value.server, ws: value.server } : value.server;
  if (value.domain !== undefined) scenario.domain = value.domain;
  if (value.timeout !== undefined) scenario.timeoutMs = value.timeout;
  if (value.trace_limit !== undefined) scenario.traceLimit = value.trace_limit;
  if (scenario.lab === undefined && scenario.server === undefined && Object.values(value.agents).some((a) => a.server === undefined)) {
    throw new ScenarioError('INVALID', `${source}: lab: give "lab: embedded", a "server", or a server for every agent`, 'lab');
  }
  if (scenario.lab !== undefined) checkLabDomains(value.agents, scenario.domain, source);
  const gateway = scenario.lab?.service_gateway !== undefined;
  const provisioned = Object.entries(value.agents).find(([, a]) => a.provision !== undefined);
  if (provisioned && !gateway) {
    throw new ScenarioError('INVALID', `${source}: agents.${provisioned[0]}.provision: DHCP provisioning needs "lab: { mode: embedded, service_gateway: {} }"`, `agents.${provisioned[0]}.provision`);
  }
  checkHousehold(scenario, steps, source);
  const stop = steps.findIndex((s) => s.kind === 'stop_mgc');
  if (stop >= 0 && !gateway) throw new ScenarioError('INVALID', `${source}: steps[${stop}].stop_mgc: needs the lab's service gateway (its two soft switches)`, `steps[${stop}].stop_mgc`);
  return scenario;
}

/** Seed 001: household terminals and `vacate` name rooms of the lab's building, which is one building of one domain. */
function checkHousehold(scenario: Scenario, steps: ScenarioStep[], source: string): void {
  const rooms = scenario.lab?.household?.rooms;
  for (const [name, agent] of Object.entries(scenario.agents)) {
    if (agent.household === undefined) continue;
    if (!rooms) throw new ScenarioError('INVALID', `${source}: agents.${name}.household: needs "lab: { mode: embedded, household: { rooms: {...} } }"`, `agents.${name}.household`);
    if (!(agent.household in rooms)) throw new ScenarioError('INVALID', `${source}: agents.${name}.household: no room ${agent.household} in lab.household.rooms`, `agents.${name}.household`);
  }
  steps.forEach((step, index) => {
    const at = `steps[${index}].${step.kind}`;
    if (step.kind === 'vacate' && !(rooms && step.value in rooms)) throw new ScenarioError('INVALID', `${source}: ${at}: no room ${step.value} in lab.household.rooms`, at);
    if (step.kind === 'withdraw' && scenario.agents[step.value]?.household === undefined) throw new ScenarioError('INVALID', `${source}: ${at}: ${step.value} is not a household terminal`, at);
  });
  if (rooms) {
    const buildings = new Set(Object.keys(rooms).map((room) => room.split('-').slice(0, 2).join('-')));
    if (buildings.size > 1) throw new ScenarioError('INVALID', `${source}: lab.household.rooms: the rooms must be of one building (area-building), got ${[...buildings].join(', ')}`, 'lab.household.rooms');
  }
}

/** Agents in several domains get one lab proxy per domain: then every agent must say which is its. */
function checkLabDomains(agents: Record<string, { domain?: string | undefined; server?: string | undefined }>, domain: string | undefined, source: string): void {
  const named = Object.entries(agents).filter(([, a]) => a.server === undefined);
  const domains = new Set(named.map(([, a]) => a.domain ?? domain).filter((d): d is string => d !== undefined));
  if (domains.size < 2) return;
  const missing = named.find(([, a]) => (a.domain ?? domain) === undefined);
  if (missing) throw new ScenarioError('INVALID', `${source}: agents.${missing[0]}.domain: the agents are in several domains (${[...domains].join(', ')}); name this agent's too`, `agents.${missing[0]}.domain`);
}

function parseStep(raw: unknown, index: number, source: string): ScenarioStep {
  const at = `steps[${index}]`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ScenarioError('INVALID', `${source}: ${at}: a step is an object with one key (e.g. "register: alice")`, at);
  }
  const keys = Object.keys(raw);
  if (keys.length !== 1) throw new ScenarioError('INVALID', `${source}: ${at}: a step has exactly one key, found ${keys.length} (${keys.join(', ')})`, at);
  const kind = keys[0]!;
  if (!(kind in stepSchemas)) {
    throw new ScenarioError('INVALID', `${source}: ${at}.${kind}: unknown step "${kind}" (known: ${Object.keys(stepSchemas).join(', ')})`, `${at}.${kind}`);
  }
  const schema = stepSchemas[kind as StepKind] as z.ZodType;
  const value = (raw as Record<string, unknown>)[kind];
  const result = schema.safeParse(value);
  if (!result.success) throw invalid(source, result.error.issues, [`${at}`, kind]);
  return { kind, value: result.data, text: `${kind}: ${JSON.stringify(value)}` } as ScenarioStep;
}

function checkReferences(step: ScenarioStep, index: number, agents: string[], callIds: Set<string>, loadIds: Set<string>, source: string): void {
  const at = `steps[${index}].${step.kind}`;
  const agent = (name: string | undefined, key: string): void => {
    if (name !== undefined && !agents.includes(name)) throw new ScenarioError('INVALID', `${source}: ${at}${key}: no agent "${name}"`, `${at}${key}`);
  };
  const call = (id: string | undefined, key = '.call'): void => {
    if (id !== undefined && !callIds.has(id)) throw new ScenarioError('INVALID', `${source}: ${at}${key}: no earlier call with id "${id}"`, `${at}${key}`);
  };
  switch (step.kind) {
    case 'register':
    case 'unregister':
    case 'withdraw':
      agent(step.value, '');
      break;
    case 'call':
      agent(step.value.from, '.from');
      if (callIds.has(step.value.id)) throw new ScenarioError('INVALID', `${source}: ${at}.id: call id "${step.value.id}" is used twice`, `${at}.id`);
      callIds.add(step.value.id);
      break;
    case 'load':
      agent(step.value.from, '.from');
      if (loadIds.has(step.value.id)) throw new ScenarioError('INVALID', `${source}: ${at}.id: load id "${step.value.id}" is used twice`, `${at}.id`);
      loadIds.add(step.value.id);
      break;
    case 'answer':
    case 'reject':
    case 'hangup':
    case 'hold':
    case 'resume':
    case 'play':
    case 'record':
    case 'dtmf':
      call(step.value.call);
      agent(step.value.by, '.by');
      break;
    case 'expect': {
      call(step.value.call);
      agent(step.value.agent, '.agent');
      const load = step.value.load?.id;
      if (load !== undefined && !loadIds.has(load)) throw new ScenarioError('INVALID', `${source}: ${at}.load.id: no earlier load with id "${load}"`, `${at}.load.id`);
      const named = step.value.incoming?.id;
      if (named !== undefined) {
        if (step.value.agent === undefined) throw new ScenarioError('INVALID', `${source}: ${at}.incoming.id: naming an incoming call needs the agent that receives it`, `${at}.incoming.id`);
        if (callIds.has(named)) throw new ScenarioError('INVALID', `${source}: ${at}.incoming.id: call id "${named}" is used twice`, `${at}.incoming.id`);
        callIds.add(named);
      }
      break;
    }
    case 'wait':
      break;
  }
}

function invalid(source: string, issues: z.core.$ZodIssue[], prefix: Array<string | number>): ScenarioError {
  const issue = issues[0]!;
  const parts = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
  if (issue.code === 'unrecognized_keys') parts.push(issue.keys[0] ?? '');
  const path = formatPath(parts);
  return new ScenarioError('INVALID', `${source}: ${path || '(top)'}: ${issue.message}`, path);
}

function formatPath(parts: Array<string | number>): string {
  return parts.reduce<string>((out, part) => {
    if (typeof part === 'number') return `${out}[${part}]`;
    if (/^steps\[\d+\]$/.test(part)) return out ? `${out}.${part}` : part;
    return out ? `${out}.${part}` : part;
  }, '');
}
