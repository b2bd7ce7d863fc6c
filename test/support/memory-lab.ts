import { Lab } from '../../lab/lab.js';
import type { LabHandle, LabRequest } from '../../core/scenario/lab-handle.js';
import type { SipTimerValues } from '../../core/sip/transport/udp-retransmitter.js';
import type { MemoryNetwork } from './memory-network.js';

/** A scenario runner's `startLab` for unit tests: the embedded lab on an in-memory network, with short SIP timers. */
export function memoryLabStarter(network: MemoryNetwork, timers: SipTimerValues = { t1: 100, t2: 400 }): (request: LabRequest) => Promise<LabHandle> {
  return async (request) => {
    const lab = await Lab.start({ users: request.users, sockets: network, timers });
    return { servers: lab.servers, domain: lab.domain, snapshot: () => lab.snapshot(), stop: () => lab.stop() };
  };
}
