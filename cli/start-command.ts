import { Lab } from '../lab/lab.js';
import { provisioningLab } from '../lab/service-gateway/lab-boot-file.js';
import { electronBinary, electronInstallHint, launchDesktop } from './desktop-launch.js';
import { exitCodes } from './exit-codes.js';
import { openInBrowser, openRefusal } from './open-browser.js';
import { serveCommand, shellQuote } from './serve-command.js';

export interface StartCommandOptions {
  dataDir: string;
  user: string;
  /** Whether the user name was given (not the default): a provisioned phone otherwise takes its boot file's account. */
  userGiven?: boolean;
  /** `dhcp`: lease the address and ports from the embedded lab's service gateway (seed 003); `static` by default. */
  provision?: string;
  /** With `provision: dhcp`: lease from the DHCP server on this network interface instead, with no embedded lab. */
  dhcpInterface?: string;
  /** commander's `--no-open`: false leaves the browser closed (tests; CI never opens one either). */
  open?: boolean;
}

/**
 * `npm start`: the desktop app with the embedded lab where an Electron binary exists; otherwise the embedded lab
 * and the same UI served to a browser, saying so in one line.
 */
export async function startCommand(options: StartCommandOptions): Promise<void> {
  const provision = options.provision ?? 'static';
  if (provision !== 'static' && provision !== 'dhcp') {
    console.error(`veilphone start: --provision must be static or dhcp, got "${provision}"`);
    process.exit(exitCodes.invalid);
  }
  if (options.dhcpInterface !== undefined && provision !== 'dhcp') {
    console.error('veilphone start: --dhcp-interface names where to lease from: add --provision dhcp');
    process.exit(exitCodes.invalid);
  }
  const electron = electronBinary();
  if (electron && options.dhcpInterface !== undefined) {
    // A real network: the lease names the soft switches; no embedded lab.
    const code = await launchDesktop(electron, {
      dataDir: options.dataDir,
      account: { id: options.user, user: options.user, transport: 'udp' },
      leaseSource: { network: { interface: options.dhcpInterface } },
      ...(options.userGiven !== undefined ? { userGiven: options.userGiven } : {}),
    });
    process.exit(code === 0 ? exitCodes.ok : exitCodes.environment);
  }
  if (electron) {
    const lab = await Lab.start(provision === 'dhcp' ? provisioningLab : {});
    const code = await launchDesktop(electron, {
      dataDir: options.dataDir,
      account: { id: options.user, user: options.user, server: lab.servers.udp!, transport: 'udp', domain: lab.domain },
      network: { kind: 'lab', servers: Object.values(lab.servers) },
      ...(lab.serviceGateway ? { leaseSource: { gateway: lab.serviceGateway.endpoints } } : {}),
      ...(options.userGiven !== undefined ? { userGiven: options.userGiven } : {}),
    });
    await lab.stop();
    process.exit(code === 0 ? exitCodes.ok : exitCodes.environment);
  }
  await serveCommand({
    dataDir: options.dataDir,
    port: '0',
    user: options.user,
    ...(options.userGiven !== undefined ? { userGiven: options.userGiven } : {}),
    transport: 'udp',
    provision,
    ...(options.dhcpInterface !== undefined ? { dhcpInterface: options.dhcpInterface } : {}),
    banner: async (url, lab) => {
      console.log(`No Electron binary on this machine: ${lab ? 'the embedded lab is running and ' : ''}the UI is served to your browser at ${url}`);
      if (lab) console.log(`(lab SIP server ${lab.servers.udp}; a second phone: npx veilphone serve --server ${shellQuote(lab.servers.udp!)} --user bob)`);
      console.log(`(for the desktop app, fetch Electron once: ${electronInstallHint})`);
      const refused = openRefusal(options, process.env);
      if (refused !== undefined) return;
      const failed = await openInBrowser(url, { onFailed: (why) => console.log(`(could not open a browser: ${why}; open the address above yourself)`) });
      if (failed !== undefined) console.log(`(could not open a browser: ${failed}; open the address above yourself)`);
    },
  });
}
