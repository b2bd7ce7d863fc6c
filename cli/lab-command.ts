import fs from 'node:fs';
import { openPrivateFile, writePrivateFileAtomic } from '../core/files/private-files.js';
import { AdminServer } from '../lab/admin-server.js';
import { Lab } from '../lab/lab.js';
import { parseTrustedLink, type TrustedLink } from '../lab/signing/link-trust.js';
import { exitCodes } from './exit-codes.js';

export interface LabCommandOptions {
  udp: string;
  tcp: string;
  ws: string;
  address: string;
  auth?: boolean;
  user?: string[];
  json?: boolean;
  /** Port of the read-only admin endpoint on 127.0.0.1 (bindings, conversion tables, counters); off when absent. */
  admin?: string;
  /** Append every SIP message the lab sends and receives to this file, one JSON object per line. */
  trace?: string;
  signing?: boolean;
  /** With `signing`: server links the proxy trusts (no signing toward them, no checks of what comes from them). */
  trusted?: string[];
  keysOut?: string;
}

/** `veilphone lab`: run until SIGINT/SIGTERM, print one ready line. */
export async function labCommand(options: LabCommandOptions): Promise<void> {
  const ports = { udp: portOption(options.udp, '--udp'), tcp: portOption(options.tcp, '--tcp'), ws: portOption(options.ws, '--ws') };
  const users = options.user ? Object.fromEntries(options.user.map(parseUser)) : undefined;
  const adminPort = options.admin !== undefined ? portOption(options.admin, '--admin') : undefined;
  let trusted: TrustedLink[] = [];
  try {
    trusted = (options.trusted ?? []).map(parseTrustedLink);
  } catch (error) {
    console.error(`veilphone lab: --trusted: ${(error as Error).message}`);
    process.exit(exitCodes.invalid);
  }
  if (trusted.length > 0 && !options.signing) {
    console.error('veilphone lab: --trusted names links for signing: add --signing');
    process.exit(exitCodes.invalid);
  }
  // The lab's trace and its keys are readable by their owner only (issue 17), like the phone's call log.
  const trace = options.trace !== undefined ? openPrivateFile(options.trace, 'a') : undefined;
  let lab: Lab;
  let admin: AdminServer | undefined;
  try {
    lab = await Lab.start({
      address: options.address,
      ...ports,
      ...(users ? { users } : {}),
      ...(options.auth ? { auth: true } : {}),
      ...(options.signing ? { signing: trusted.length > 0 ? { trusted } : true } : {}),
      ...(trace !== undefined ? { tap: (entry) => fs.writeSync(trace, `${JSON.stringify(entry)}\n`) } : {}),
    });
    if (adminPort !== undefined) {
      const snapshot = (): ReturnType<Lab['snapshot']> => lab.snapshot();
      admin = await AdminServer.start({
        port: adminPort,
        routes: {
          '/snapshot': snapshot,
          '/bindings': () => snapshot().sip.bindings,
          '/conversion': (query) => {
            const who = query.get('identify');
            return who ? (lab.sip.conversion?.identify(who) ?? null) : (snapshot().sip.conversion ?? null);
          },
        },
      });
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    console.error(`veilphone lab: cannot start: ${code === 'EADDRINUSE' ? 'a port is already in use' : (error as Error).message}`);
    process.exit(exitCodes.environment);
  }
  if (options.signing) {
    // seed 002 ¶[0026]: the administrator hears of a signature failure rate above the threshold.
    lab.onSigningAlert((alert) => {
      const text = `signature failures: ${alert.perSecond} in the last second (threshold ${alert.threshold}); last: ${alert.last.verdict} ${alert.last.family} from ${alert.last.from}: ${alert.last.message}`;
      console.log(options.json ? JSON.stringify({ event: 'signing-alert', ...alert }) : `ALERT ${text}`);
    });
    if (options.keysOut) {
      const keysOut = options.keysOut;
      const write = (): void => writePrivateFileAtomic(keysOut, `${JSON.stringify(lab.verificationKeys()[0], null, 2)}\n`);
      write();
      setInterval(write, 30_000).unref();
    }
  }
  const actual = lab.sip.ports;
  const adminUrl = admin ? `${admin.url}snapshot?token=${admin.token}` : undefined;
  if (options.json) console.log(JSON.stringify({ event: 'ready', address: options.address, udp: actual.udp, tcp: actual.tcp, ws: actual.ws, ...(adminUrl ? { admin: adminUrl } : {}), ...(options.signing ? { signing: true } : {}) }));
  else console.log(`veilphone lab ready on ${options.address}: udp ${actual.udp}, tcp ${actual.tcp}, ws ${actual.ws}${adminUrl ? `; admin ${adminUrl}` : ''}`);
  const stop = async (): Promise<void> => {
    await admin?.stop();
    await lab.stop();
    if (trace !== undefined) fs.closeSync(trace);
    process.exit(exitCodes.ok);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

function portOption(text: string, name: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    console.error(`veilphone lab: ${name} must be a port number (0-65535), got "${text}"`);
    process.exit(exitCodes.invalid);
  }
  return Number(text);
}

function parseUser(text: string): [string, { password?: string }] {
  const colon = text.indexOf(':');
  return colon < 0 ? [text, {}] : [text.slice(0, colon), { password: text.slice(colon + 1) }];
}
