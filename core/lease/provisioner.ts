import type { LeaseClient } from './lease-client.js';
import type { Lease } from './lease.js';
import { LeaseError } from './lease-error.js';
import { applyProvisioning, parseProvisioningConfig, type ProvisioningConfig, type ProvisioningResult } from './provisioning-config.js';
import { TftpClient, type TftpClientOptions, type TftpEvent } from './tftp-client.js';

export interface ProvisionOptions {
  lease: LeaseClient;
  /** TFTP settings; the server address comes from the lease (option 66 / siaddr), the port defaults to 69. */
  tftp?: Omit<TftpClientOptions, 'server'> & { port?: number };
  /**
   * A config already on the phone (Fig. 5B 542 "boot image is local"): used when the lease names no boot file or
   * TFTP server; TFTP wins when both exist.
   */
  localConfig?: string;
  onTftpEvent?: (event: TftpEvent) => void;
}

export interface Provisioned {
  lease: Lease;
  config: ProvisioningConfig;
  result: ProvisioningResult;
  source: 'tftp' | 'local';
  /** TFTP attempts used (Fig. 5B 582). */
  attempts?: number;
}

/**
 * Power-on to ready (seed 003 Fig. 4A 402-404, Fig. 5B): lease (or static), then the config file by TFTP from the
 * server the lease names, parsed and applied. Failures keep their codes: NO_USABLE_OFFER, TFTP_FILE_NOT_FOUND after
 * four attempts (Fig. 5B 584 "error out"), BAD_CONFIG, NO_MGC.
 */
export async function provision(options: ProvisionOptions): Promise<Provisioned> {
  const lease = await options.lease.start();
  let text: string;
  let source: Provisioned['source'];
  let attempts: number | undefined;
  if (lease.tftpServer !== undefined && lease.bootFile !== undefined) {
    const { port, ...tftp } = options.tftp ?? {};
    const client = new TftpClient({ ...tftp, server: { address: lease.tftpServer, ...(port !== undefined ? { port } : {}) } });
    if (options.onTftpEvent) client.on(options.onTftpEvent);
    const fetched = await client.fetch(lease.bootFile);
    text = fetched.data.toString('utf8');
    source = 'tftp';
    attempts = fetched.attempts;
  } else if (options.localConfig !== undefined) {
    text = options.localConfig;
    source = 'local';
  } else {
    throw new LeaseError('NO_TFTP_SERVER', 'the lease names no TFTP server and boot file, and there is no local config');
  }
  const config = parseProvisioningConfig(text);
  return { lease, config, result: applyProvisioning(config, lease), source, ...(attempts !== undefined ? { attempts } : {}) };
}
