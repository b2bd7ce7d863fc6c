import type { TransportKind } from '../api/phone-types.js';
import type { ServiceGatewayEndpoints } from '../phone/provision-phone.js';
import type { VerificationKeyFile } from '../signing/key-ring.js';
import type { LabConversion, Scenario } from './scenario-schema.js';

export type ServerUris = Partial<Record<TransportKind, string>>;

/** The embedded lab as the runner sees it (the CLI starts it; core never imports lab/). */
export interface LabHandle {
  servers: ServerUris;
  domain: string;
  /** With `LabRequest.domains`: each domain's own proxy. */
  domainServers?: Record<string, ServerUris>;
  /** The operator's lookup in the conversion tables: who is behind an anonymous Call-ID or AnonymousN. */
  identify?(key: string): { realUser: string } | undefined;
  snapshot(): unknown;
  stop(): Promise<void>;
  /** Where the service gateway answers, when one runs. */
  serviceGateway?: ServiceGatewayEndpoints;
  /** Fault injection: a soft switch stops answering. */
  stopMgc?(which: 'primary' | 'secondary'): Promise<void>;
  /** With `LabRequest.tls`: the SHA-256 fingerprint of the lab's certificate, which tls and wss agents pin. */
  tlsFingerprint?: string;
  /** The keys that verify the lab's signed routing headers (seed 002), handed to every agent. */
  verificationKeys?(): VerificationKeyFile[];
  /** Seed 001's building, when one runs: where each room's gateway takes allocation requests, and vacating a room. */
  household?: {
    dhcp(room: string): { address: string; port: number };
    vacate(room: string): Promise<string[]>;
  };
}

export interface LabRequest {
  auth: boolean;
  users: Record<string, { password?: string }>;
  /** Seed 003's service gateway with two soft switches, when the scenario asks for it. */
  serviceGateway?: { vendorClasses?: Record<string, number> };
  /** The domains the agents name, with each one's users: one lab proxy per domain, peered. */
  domains?: Record<string, Record<string, { password?: string }>>;
  /** Where the network converts anonymous calls (seed 000 Embodiments 2-5); absent: the lab's default. */
  conversion?: LabConversion;
  /** Sign and validate routing headers, every phone's link untrusted (seed 002). */
  signing?: boolean;
  /** Serve TLS and WSS too, with the lab's own certificate (issue 18). */
  tls?: boolean;
  /** Forge routing headers on the phones' links (fault injection). */
  tamper?: 'via' | 'record_route' | 'route_set' | 'replay';
  /** Seed 001's building of household terminals: rooms and their first number of addresses. */
  household?: { rooms: Record<string, number> };
}

/** What a scenario's `lab:` asks the host for: its users (by domain when agents name one), auth, signing, faults. */
export function labRequest(scenario: Scenario, lab: NonNullable<Scenario['lab']>): LabRequest {
  // household terminals have no user yet: their room gateway registers the number it gives them
  const named = Object.values(scenario.agents).filter((a): a is typeof a & { user: string } => a.user !== undefined);
  const users = Object.fromEntries(named.map((a) => [a.user, a.password === undefined ? {} : { password: a.password }]));
  const domains: Record<string, Record<string, { password?: string }>> = {};
  for (const agent of named) {
    const domain = agent.server === undefined ? (agent.domain ?? scenario.domain) : undefined;
    if (domain !== undefined) (domains[domain] ??= {})[agent.user] = agent.password === undefined ? {} : { password: agent.password };
  }
  const request: LabRequest = {
    auth: lab.auth ?? false,
    users,
    ...(Object.keys(domains).length > 0 ? { domains } : {}),
    ...(lab.conversion ? { conversion: lab.conversion } : {}),
  };
  const { signing, tamper, service_gateway: gateway, household, tls } = lab;
  return {
    ...request,
    ...(household ? { household: { rooms: household.rooms } } : {}),
    ...(signing ? { signing } : {}),
    ...(tls ? { tls } : {}),
    ...(tamper ? { tamper } : {}),
    ...(gateway ? { serviceGateway: gateway.vendor_classes ? { vendorClasses: gateway.vendor_classes } : {} } : {}),
  };
}
