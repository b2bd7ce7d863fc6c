import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LabHandle, LabRequest } from '../core/scenario/lab-handle.js';
import type { SipSockets } from '../core/sip/transport/sip-sockets.js';
import { Lab, type LabOptions } from '../lab/lab.js';
import { LabNetwork } from '../lab/lab-network.js';
import { labBootFiles } from '../lab/service-gateway/lab-boot-file.js';

/**
 * The runner's `lab: embedded`: a fresh lab on free loopback ports, knowing the scenario's users. Agents in several
 * domains get a lab network instead: one proxy per domain, peered, converting where `conversion.placement` says.
 */
export async function startLabForScenario(request: LabRequest, sockets?: SipSockets): Promise<LabHandle> {
  const domains = Object.keys(request.domains ?? {});
  const placement = request.conversion?.placement;
  if (domains.length >= 2) {
    if (request.serviceGateway || request.signing || request.tamper || request.household || request.tls) throw new Error('a service gateway, a household building, signing and TLS are only available with one domain');
    const network = await LabNetwork.start({
      domains: Object.fromEntries(domains.map((d) => [d, { users: request.domains![d]! }])),
      placement: placement ?? 'caller-server',
      ...(request.conversion?.domain !== undefined ? { carrierDomain: request.conversion.domain } : {}),
      ...(request.auth ? { auth: true } : {}),
      ...(sockets ? { sockets } : {}),
    });
    return {
      servers: network.servers(domains[0]!),
      domain: domains[0]!,
      domainServers: Object.fromEntries(domains.map((d) => [d, network.servers(d)])),
      identify: (key) => network.identify(key),
      snapshot: () => network.snapshot(),
      stop: () => network.stop(),
    };
  }
  // One proxy: whatever the placement, it is the caller's, the callee's and the carrier's server at once.
  const conversion: LabOptions['conversion'] =
    placement === 'off' ? false : placement === undefined ? undefined : { placement, ...(request.conversion?.domain !== undefined ? { domain: request.conversion.domain } : {}) };
  const tlsDir = request.tls ? fs.mkdtempSync(path.join(os.tmpdir(), 'veilphone-scenario-lab-')) : undefined;
  const lab = await Lab.start({
    users: request.users,
    auth: request.auth,
    ...(domains.length === 1 ? { domains } : {}),
    ...(conversion !== undefined ? { conversion } : {}),
    ...(request.signing ? { signing: true } : {}),
    ...(request.tamper ? { tamper: request.tamper } : {}),
    ...(sockets ? { sockets } : {}),
    // Issue 18: the lab's certificate is made on first start and kept in its data dir (a private temporary one here).
    ...(tlsDir !== undefined ? { tls: { dataDir: tlsDir } } : {}),
    // Seed 003: DHCP port blocks, the boot file by TFTP, and a secondary soft switch on the same registrar.
    ...(request.serviceGateway
      ? { secondaryMgc: true, serviceGateway: { ...labBootFiles, ...(request.serviceGateway.vendorClasses ? { vendorClasses: request.serviceGateway.vendorClasses } : {}) } }
      : {}),
    // Seed 001: a building of household terminals; the lab's proxy is the outside network its gatekeeper peers with
    ...(request.household ? { household: { rooms: request.household.rooms } } : {}),
  });
  const gateway = lab.serviceGateway;
  const household = lab.household;
  return {
    servers: lab.servers,
    domain: domains[0] ?? lab.domain,
    ...(domains.length === 1 ? { domainServers: { [domains[0]!]: lab.servers } } : {}),
    identify: (key) => lab.sip.conversion?.identify(key),
    snapshot: () => lab.snapshot(),
    stop: async () => {
      await lab.stop();
      if (tlsDir !== undefined) fs.rmSync(tlsDir, { recursive: true, force: true });
    },
    verificationKeys: () => lab.verificationKeys(),
    ...(lab.certificate ? { tlsFingerprint: lab.certificate.fingerprint } : {}),
    ...(gateway ? { serviceGateway: gateway.endpoints, stopMgc: (which: 'primary' | 'secondary') => lab.stopMgc(which) } : {}),
    ...(household ? { household: { dhcp: (room: string) => household.gateway(room).dhcpEndpoint, vacate: (room: string) => household.vacate(room) } } : {}),
  };
}
