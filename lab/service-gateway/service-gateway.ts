import type { MgcAddress, PortRange } from '../../core/lease/dhcp-options.js';
import { LabDhcpServer, type LabDhcpCounters } from './dhcp-server.js';
import type { ServerLease } from './dhcp-service.js';
import { Nappt, type NapptCounters } from './nappt.js';
import { LabTftpServer, type LabTftpCounters } from './tftp-server.js';

export interface ServiceGatewayOptions {
  /** Where the DHCP and TFTP servers listen (default 127.0.0.1); ports 0 (default) pick free ones. */
  address?: string;
  dhcpPort?: number;
  tftpPort?: number;
  /** Port-range size per vendor class (default `{ "Veilphone-1": 20, "Veilphone-4": 80 }`). */
  vendorClasses?: Record<string, number>;
  /** The soft switches handed out (option 225), primary first. */
  mgc: MgcAddress[];
  /** The modelled private network: server id, address pool, mask (default 10.77.0.1, .10-.250, /24). */
  network?: { serverId: string; pool: { first: string; last: string }; subnetMask: string };
  /** The NAT public address (option 226; default 198.51.100.7, TEST-NET-2). */
  publicAddress?: string;
  /** Port space cut into blocks (default 20000-59999). */
  ports?: PortRange;
  leaseSeconds?: number;
  renewalSeconds?: number;
  rebindingSeconds?: number;
  /** Tests compress lease time: milliseconds per lease second (default 1000). */
  secondMs?: number;
  /** Fig. 5A 510: only these hardware address prefixes or client ids (hex) get offers. */
  allowedClients?: { hardwarePrefixes?: string[]; clientIds?: string[] };
  /** How options 224-226 travel (default private options). */
  encoding?: 'private' | 'vendor-specific';
  /** Files the TFTP server serves; `bootFile` names the one in option 67. */
  files?: Record<string, string | Buffer>;
  bootFile?: string;
  leaseFile?: string;
}

export interface ServiceGatewaySnapshot {
  dhcp: { address: string; port: number; counters: LabDhcpCounters; leases: ServerLease[] };
  tftp: { address: string; port: number; counters: LabTftpCounters };
  nat: { publicAddress: string; counters: NapptCounters };
}

export const DEFAULT_VENDOR_CLASSES: Record<string, number> = { 'Veilphone-1': 20, 'Veilphone-4': 80 };

/**
 * The lab's service gateway (seed 003 Fig. 2/3A, SPEC.md C): DHCP with per-vendor-class port blocks and the MGC, NAT
 * and TFTP options; a TFTP server; a NAPPT model over the bound leases. On loopback, no root needed: the phone's lab
 * transport (core/lease UdpLeaseTransport.loopback) talks to `dhcp.endpoint`, its TFTP client to `tftp.endpoint`.
 */
export class ServiceGateway {
  private constructor(
    readonly dhcp: LabDhcpServer,
    readonly tftp: LabTftpServer,
    readonly nappt: Nappt,
  ) {}

  static async start(options: ServiceGatewayOptions): Promise<ServiceGateway> {
    const address = options.address ?? '127.0.0.1';
    const tftp = await LabTftpServer.start({ address, port: options.tftpPort ?? 0, ...(options.files ? { files: options.files } : {}) });
    const network = options.network ?? { serverId: '10.77.0.1', pool: { first: '10.77.0.10', last: '10.77.0.250' }, subnetMask: '255.255.255.0' };
    const publicAddress = options.publicAddress ?? '198.51.100.7';
    let dhcp: LabDhcpServer;
    try {
      dhcp = await LabDhcpServer.start({
        address,
        port: options.dhcpPort ?? 0,
        serverId: network.serverId,
        pool: network.pool,
        subnetMask: network.subnetMask,
        router: network.serverId,
        vendorClasses: options.vendorClasses ?? DEFAULT_VENDOR_CLASSES,
        mgc: options.mgc,
        natAddress: publicAddress,
        // the TFTP server's real (loopback) address; its port is not carried by DHCP — see snapshot().tftp.port
        ...(options.bootFile !== undefined ? { tftp: { server: tftp.endpoint.address, bootFile: options.bootFile } } : {}),
        ...(options.ports ? { ports: options.ports } : {}),
        ...(options.leaseSeconds !== undefined ? { leaseSeconds: options.leaseSeconds } : {}),
        ...(options.renewalSeconds !== undefined ? { renewalSeconds: options.renewalSeconds } : {}),
        ...(options.rebindingSeconds !== undefined ? { rebindingSeconds: options.rebindingSeconds } : {}),
        ...(options.secondMs !== undefined ? { secondMs: options.secondMs } : {}),
        ...(options.allowedClients ? { allowedClients: options.allowedClients } : {}),
        ...(options.encoding ? { encoding: options.encoding } : {}),
        ...(options.leaseFile ? { leaseFile: options.leaseFile } : {}),
      });
    } catch (error) {
      await tftp.stop();
      throw error;
    }
    const nappt = new Nappt({
      publicAddress,
      bindings: () => dhcp.leases().filter((l) => l.state === 'bound').map((l) => ({ privateAddress: l.address, ports: l.portRange })),
    });
    return new ServiceGateway(dhcp, tftp, nappt);
  }

  /** Where a phone on loopback asks: DHCP, and TFTP (whose port DHCP cannot carry). */
  get endpoints(): { dhcp: { address: string; port: number }; tftp: { address: string; port: number } } {
    return { dhcp: this.dhcp.endpoint, tftp: this.tftp.endpoint };
  }

  snapshot(): ServiceGatewaySnapshot {
    return {
      dhcp: { ...this.dhcp.endpoint, counters: structuredClone(this.dhcp.counters), leases: this.dhcp.leases() },
      tftp: { ...this.tftp.endpoint, counters: structuredClone(this.tftp.counters) },
      nat: { publicAddress: this.nappt.publicAddress, counters: structuredClone(this.nappt.counters) },
    };
  }

  async stop(): Promise<void> {
    await Promise.all([this.dhcp.stop(), this.tftp.stop()]);
  }
}
