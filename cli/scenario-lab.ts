import type { LabHandle, LabRequest } from '../core/scenario/scenario-runner.js';
import { Lab } from '../lab/lab.js';

/** The runner's `lab: embedded`: a fresh lab on free loopback ports, knowing the scenario's users. */
export async function startLabForScenario(request: LabRequest): Promise<LabHandle> {
  const lab = await Lab.start({ users: request.users, auth: request.auth, ...(request.signing ? { signing: true } : {}), ...(request.tamper ? { tamper: request.tamper } : {}) });
  return { servers: lab.servers, domain: lab.domain, snapshot: () => lab.snapshot(), stop: () => lab.stop(), verificationKeys: () => lab.verificationKeys() };
}
