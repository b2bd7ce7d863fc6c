import type { SessionDescriptionHandlerFactory } from 'sip.js';
import { SipIdentity } from '../sip/sip-identity.js';
import { isSecureTransport, type SipTransportKind } from '../sip/transport/endpoint.js';
import type { TlsClientSettings } from '../sip/transport/tls-trust.js';
import type { SipSockets } from '../sip/transport/sip-sockets.js';
import type { SipTimerValues } from '../sip/transport/udp-retransmitter.js';
import type { FailedStep } from './failure-tally.js';

/** A registration binding the phone made and must erase: whose it is, its Contact, and where it was registered. */
export interface BindingToRemove {
  aor: string;
  contact: string;
  server: { address: string; port: number };
  transport: string;
}

export interface BindingRemovalOptions {
  /** Credentials for an address-of-record `user@domain`, when this phone still has that account. */
  credentials: (aor: string) => { username: string; password: string } | undefined;
  /** How a TLS or WSS identity checks the binding's registrar; may throw when the account's settings cannot be read. */
  tls?: (binding: BindingToRemove) => TlsClientSettings | undefined;
  sessionDescriptionHandlerFactory: SessionDescriptionHandlerFactory;
  timers?: SipTimerValues;
  sockets: SipSockets;
  /** Counts a throwaway identity that could not be disposed. */
  failed: FailedStep;
  /** Stop waiting for the registrar: when this aborts, or after `waitMs` (default 64·T1). */
  signal?: AbortSignal;
  waitMs?: number;
}

/**
 * RFC 3261 §10.2.2: REGISTER Expires: 0 for a Contact that is not this identity's own (its identity is gone: a crashed
 * run's whose account is gone or no longer on one-time addresses there), sent from a throwaway identity on the OS's
 * source address. Resolves with the registrar's answer, or undefined when none came (within `waitMs`, at most 64·T1).
 */
export async function removeBinding(binding: BindingToRemove, options: BindingRemovalOptions): Promise<number | undefined> {
  if (options.signal?.aborted) return undefined; // a shutdown began: the journal keeps it for the next start
  const [user = '', domain = ''] = splitAor(binding.aor);
  let identity: SipIdentity | undefined;
  let status: number | undefined;
  try {
    const credentials = options.credentials(binding.aor);
    const tls = isSecureTransport(binding.transport as SipTransportKind) ? options.tls?.(binding) : undefined;
    identity = await SipIdentity.create({
      aor: { user, domain },
      ...(credentials ? { auth: credentials } : {}),
      transport: binding.transport as SipTransportKind,
      ...(tls ? { tls } : {}),
      local: { address: await options.sockets.sourceAddressFor(binding.server.address, binding.server.port), port: 0 },
      server: binding.server,
      sessionDescriptionHandlerFactory: options.sessionDescriptionHandlerFactory,
      ...(options.timers ? { timers: options.timers } : {}),
      sockets: options.sockets,
    });
    status = await identity.removeBinding(binding.contact, { ...(options.signal ? { signal: options.signal } : {}), ...(options.waitMs !== undefined ? { waitMs: options.waitMs } : {}) });
  } catch {
    status = undefined; // the registrar is unreachable now
  } finally {
    // no answer: the REGISTER's transaction may still run, and the stack is stopped at once, not after Timer F
    await identity?.dispose(status === undefined ? { serverGone: true } : {}).catch(options.failed('disposing the identity that removed a registration'));
  }
  return status;
}

function splitAor(aor: string): [string, string] {
  const at = aor.lastIndexOf('@');
  return at < 0 ? ['', aor] : [aor.slice(0, at), aor.slice(at + 1)];
}
