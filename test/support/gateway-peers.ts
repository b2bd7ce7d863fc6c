import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Child } from './child.js';
import { NetnsPair } from './netns.js';
import { projectRoot } from './veilphone-cli.js';

/** One phone dnsmasq knows (deploy/dnsmasq/phones.hosts and phones.opts lines). */
export interface KnownPhone {
  mac: string;
  address: string;
  ports: { min: number; max: number };
}

export interface GatewayPeersOptions {
  tag: string;
  phones: KnownPhone[];
  /** The MAC the phone namespace's interface gets (one of `phones`, or another one to test an unknown MAC). */
  phoneMac: string;
  leaseTime?: string;
  /** The config file served by tftpd-hpa as option 67 (default deploy/tftpd/veilphone.cfg). */
  bootFile?: { name: string; content: string };
  tftp?: boolean;
}

const SERVER = '10.77.0.1';
export const GATEWAY_MGC = [
  { address: '10.77.0.5', port: 5060 },
  { address: '10.77.0.6', port: 5070 },
];
export const GATEWAY_NAT = '198.51.100.7';

/** Fills a deploy/ template; every @NAME@ must be given. */
export function renderTemplate(file: string, values: Record<string, string>): string {
  const text = fs.readFileSync(path.join(projectRoot, file), 'utf8').replace(/@([A-Z_]+)@/g, (whole, name: string) => {
    if (!(name in values)) throw new Error(`${file}: no value for ${whole}`);
    return values[name]!;
  });
  return text;
}

function hex(bytes: number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Option 224's hex form for dnsmasq (docs/provisioning.md). */
export function portRangeHex(ports: { min: number; max: number }): string {
  return hex([ports.min >> 8, ports.min & 255, ports.max >> 8, ports.max & 255]);
}

/**
 * dnsmasq (deploy/dnsmasq/veilphone-dhcp.conf) and tftpd-hpa (deploy/tftpd/tftpd-hpa) in a server namespace, joined
 * by a veth pair to an empty phone namespace; `destroy()` kills them by PID and deletes both namespaces.
 */
export class GatewayPeers {
  readonly pair: NetnsPair;
  readonly dir: string;
  dnsmasq: Child | undefined;
  tftpd: Child | undefined;

  constructor(private readonly options: GatewayPeersOptions) {
    this.pair = new NetnsPair(options.tag);
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-gw-'));
  }

  async start(): Promise<this> {
    const { pair, dir, options } = this;
    pair.create({ netV4: `${SERVER}/24` });
    pair.exec(pair.phone, 'ip', ['link', 'set', 'dev', pair.phoneIf, 'address', options.phoneMac]);
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(path.join(dir, 'phones.hosts'), options.phones.map((p, i) => `${p.mac},set:ph-${i + 1},${p.address}\n`).join(''));
    fs.writeFileSync(path.join(dir, 'phones.opts'), options.phones.map((p, i) => `tag:ph-${i + 1},224,${portRangeHex(p.ports)}\n`).join(''));
    const bootFile = options.bootFile ?? { name: 'veilphone.cfg', content: fs.readFileSync(path.join(projectRoot, 'deploy/tftpd/veilphone.cfg'), 'utf8') };
    const conf = renderTemplate('deploy/dnsmasq/veilphone-dhcp.conf', {
      IFACE: pair.netIf,
      SERVER_ADDRESS: SERVER,
      NETWORK: '10.77.0.0',
      NETMASK: '255.255.255.0',
      LEASE_TIME: options.leaseTime ?? '1h',
      STATE_DIR: dir,
      MGC_HEX: hex(GATEWAY_MGC.flatMap((m) => [...m.address.split('.').map(Number), m.port >> 8, m.port & 255])),
      NAT_HEX: hex(GATEWAY_NAT.split('.').map(Number)),
      TFTP_SERVER: SERVER,
      BOOT_FILE: bootFile.name,
    });
    fs.writeFileSync(path.join(dir, 'dnsmasq.conf'), conf);
    // The test's state dir is root's; the reference config leaves dnsmasq's user alone.
    this.dnsmasq = new Child(pair.spawn(pair.net, 'dnsmasq', ['--keep-in-foreground', '--log-facility=-', `--conf-file=${path.join(dir, 'dnsmasq.conf')}`, '--user=root', `--pid-file=${path.join(dir, 'dnsmasq.pid')}`]));
    await this.dnsmasq.waitFor(/DHCP, static leases only|started, version/);

    if (options.tftp !== false) {
      const tftpRoot = path.join(dir, 'tftp');
      fs.mkdirSync(tftpRoot, { mode: 0o755 });
      fs.writeFileSync(path.join(tftpRoot, bootFile.name), bootFile.content, { mode: 0o644 });
      const defaults = renderTemplate('deploy/tftpd/tftpd-hpa', { TFTP_ADDRESS: SERVER, TFTP_DIRECTORY: tftpRoot });
      const vars = Object.fromEntries([...defaults.matchAll(/^(\w+)="(.*)"$/gm)].map((m) => [m[1]!, m[2]!]));
      // as Debian's init script does: in.tftpd --listen --user U --address A OPTIONS DIRECTORY (plus --foreground here)
      const args = ['--foreground', '--listen', '--user', vars.TFTP_USERNAME!, '--address', vars.TFTP_ADDRESS!, ...vars.TFTP_OPTIONS!.split(/\s+/).filter(Boolean), vars.TFTP_DIRECTORY!];
      this.tftpd = new Child(pair.spawn(pair.net, 'in.tftpd', args));
      await waitForUdpListener(pair, 69);
    }
    return this;
  }

  get serverAddress(): string {
    return SERVER;
  }

  /** Run the phone driver (test/interop/lease/lease-driver.ts) inside the phone namespace. */
  driver(config: object): Child {
    return Child.start('ip', ['netns', 'exec', this.pair.phone, process.execPath, '--import', 'tsx', path.join(projectRoot, 'test/interop/lease/lease-driver.ts'), JSON.stringify({ iface: this.pair.phoneIf, ...config })], { cwd: projectRoot });
  }

  async destroy(): Promise<void> {
    await this.dnsmasq?.stop(1000).catch(() => undefined);
    await this.tftpd?.stop(1000).catch(() => undefined);
    this.pair.destroy();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Parsed JSON lines a driver printed. */
export function driverLines(child: Child): Array<Record<string, unknown> & { event: string }> {
  return child.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown> & { event: string });
}

async function waitForUdpListener(pair: NetnsPair, port: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (new RegExp(`:${port}\\b`).test(pair.exec(pair.net, 'ss', ['-uln']))) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`nothing listens on UDP port ${port} in ${pair.net}`);
}
