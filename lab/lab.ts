import type { SipTap } from '../core/sip/transport/message-tap.js';
import type { SipTimerValues } from '../core/sip/transport/udp-retransmitter.js';
import type { VerificationKeyFile } from '../core/signing/key-ring.js';
import type { HeaderSigningOptions } from './signing/header-signing.js';
import type { SignatureAlert } from './signing/failure-monitor.js';
import type { TamperKind } from './signing/tamperer.js';
import { SipLabServer, type SipLabServerOptions, type SipLabServerSnapshot } from './sip-server/sip-lab-server.js';

export interface LabOptions {
  address?: string;
  /** SIP ports; 0 (the default) picks free ones. */
  udp?: number;
  tcp?: number;
  ws?: number;
  users?: Record<string, { password?: string }>;
  auth?: boolean;
  /** Host names this lab's proxy answers for, besides its address. */
  domains?: string[];
  /** Other labs by the domain they serve, for calls between domains. */
  peers?: SipLabServerOptions['peers'];
  timers?: SipTimerValues;
  tap?: SipTap;
  /** The message conversion server (seed 000): on by default at the caller's server; `false` turns it off. */
  conversion?: SipLabServerOptions['conversion'] | false;
  /** Signed routing headers (seed 002): `true` treats every link as untrusted (every phone's). */
  signing?: boolean | HeaderSigningOptions;
  /** Fault injection: forge routing headers on the phones' links (lab/signing/tamperer.ts). */
  tamper?: TamperKind;
}

export interface LabSnapshot {
  sip: SipLabServerSnapshot;
}

/**
 * The embedded lab network (SPEC.md "The lab"): everything a user needs to try Veilphone on one machine,
 * in-process and on loopback.
 */
export class Lab {
  private constructor(readonly sip: SipLabServer) {}

  static async start(options: LabOptions = {}): Promise<Lab> {
    const sip = await SipLabServer.start({
      address: options.address ?? '127.0.0.1',
      udp: options.udp ?? 0,
      tcp: options.tcp ?? 0,
      ws: options.ws ?? 0,
      ...(options.users ? { users: options.users } : {}),
      ...(options.auth ? { auth: true } : {}),
      ...(options.domains ? { domains: options.domains } : {}),
      ...(options.peers ? { peers: options.peers } : {}),
      ...(options.timers ? { timers: options.timers } : {}),
      ...(options.tap ? { tap: options.tap } : {}),
      ...(options.conversion !== false ? { conversion: options.conversion ?? { placement: 'caller-server' } } : {}),
      ...(options.signing ? { signing: options.signing === true ? {} : options.signing } : {}),
      ...(options.tamper ? { tamper: options.tamper } : {}),
    });
    return new Lab(sip);
  }

  /** The SIP server URI for each transport. */
  get servers(): { udp?: string; tcp?: string; ws?: string } {
    const { udp, tcp, ws } = this.sip.ports;
    const host = this.sip.address.includes(':') ? `[${this.sip.address}]` : this.sip.address;
    const out: { udp?: string; tcp?: string; ws?: string } = {};
    if (udp !== undefined) out.udp = `sip:${host}:${udp};transport=udp`;
    if (tcp !== undefined) out.tcp = `sip:${host}:${tcp};transport=tcp`;
    if (ws !== undefined) out.ws = `sip:${host}:${ws};transport=ws`;
    return out;
  }

  /** The SIP domain of the lab's users: its address (any of its ports). */
  get domain(): string {
    return this.sip.address.includes(':') ? `[${this.sip.address}]` : this.sip.address;
  }

  /** The keys that verify the lab proxy's signatures (what phones in the lab are given), or none when it does not sign. */
  verificationKeys(): VerificationKeyFile[] {
    return this.sip.signing ? [this.sip.signing.exportKeys()] : [];
  }

  /** Signature failures crossing the per-second threshold (seed 002 ¶[0026]). */
  onSigningAlert(listener: (alert: SignatureAlert) => void): () => void {
    return this.sip.signing?.onAlert(listener) ?? (() => undefined);
  }

  snapshot(): LabSnapshot {
    return { sip: this.sip.snapshot() };
  }

  async stop(): Promise<void> {
    await this.sip.stop();
  }
}
