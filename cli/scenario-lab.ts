import type { LabHandle, LabRequest } from '../core/scenario/scenario-runner.js';
import { Lab } from '../lab/lab.js';

/**
 * The boot file the scenario lab's TFTP server hands out (docs/provisioning.md, format 1): register at the soft
 * switches of the lease, and the 184/186 dial plan. Each agent keeps its own user and name from the scenario.
 */
const scenarioBootFile = ['# Veilphone provisioning for scenario runs', '[veilphone]', 'format = 1', 'registrar = mgc', 'transport = udp', '', '[account phone]', 'user = phone', '', '[dial_plan]', '184 = withhold Caller ID withheld', '186 = present Caller ID shown', ''].join('\n');

/** The runner's `lab: embedded`: a fresh lab on free loopback ports, knowing the scenario's users. */
export async function startLabForScenario(request: LabRequest): Promise<LabHandle> {
  const lab = await Lab.start({
    users: request.users,
    auth: request.auth,
    ...(request.serviceGateway
      ? { secondaryMgc: true, serviceGateway: { bootFile: 'veilphone.cfg', files: { 'veilphone.cfg': scenarioBootFile }, ...(request.serviceGateway.vendorClasses ? { vendorClasses: request.serviceGateway.vendorClasses } : {}) } }
      : {}),
  });
  const gateway = lab.serviceGateway;
  return {
    servers: lab.servers,
    domain: lab.domain,
    snapshot: () => lab.snapshot(),
    stop: () => lab.stop(),
    ...(gateway ? { serviceGateway: { dhcp: gateway.dhcp.endpoint, tftp: gateway.tftp.endpoint }, stopMgc: (which: 'primary' | 'secondary') => lab.stopMgc(which) } : {}),
  };
}
