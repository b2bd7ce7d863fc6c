import type { SipIdentityOptions } from '../../core/sip/sip-identity.js';
import type { SipTransportKind } from '../../core/sip/transport/endpoint.js';
import type { SipLabServer } from '../../lab/sip-server/sip-lab-server.js';
import { staticSdhFactory } from './static-sdh.js';

/** Test timers: RFC 3261's T1/T2 shortened, so a lost datagram is retried within a test's patience. */
export const fastTimers = { t1: 100, t2: 400 };

/**
 * The options of a signaling-only identity of `user` registered with an in-process lab over `transport` (loopback,
 * any free port, a fixed SDP), for tests of the lab's proxying; callers add tap, auth and incoming-call handling.
 */
export function labIdentityOptions(lab: SipLabServer, user: string, transport: SipTransportKind): SipIdentityOptions {
  const port = lab.ports[transport]!;
  return {
    aor: { user, domain: `127.0.0.1:${port}` },
    transport,
    local: { address: '127.0.0.1', port: 0 },
    server: { address: '127.0.0.1', port },
    sessionDescriptionHandlerFactory: staticSdhFactory(),
    timers: fastTimers,
  };
}
