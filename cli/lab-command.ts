import fs from 'node:fs';
import { Lab } from '../lab/lab.js';
import { exitCodes } from './exit-codes.js';

export interface LabCommandOptions {
  udp: string;
  tcp: string;
  ws: string;
  address: string;
  auth?: boolean;
  user?: string[];
  json?: boolean;
  signing?: boolean;
  keysOut?: string;
}

/** `veilphone lab`: run until SIGINT/SIGTERM, print one ready line. */
export async function labCommand(options: LabCommandOptions): Promise<void> {
  const ports = { udp: portOption(options.udp, '--udp'), tcp: portOption(options.tcp, '--tcp'), ws: portOption(options.ws, '--ws') };
  const users = options.user ? Object.fromEntries(options.user.map(parseUser)) : undefined;
  let lab: Lab;
  try {
    lab = await Lab.start({ address: options.address, ...ports, ...(users ? { users } : {}), ...(options.auth ? { auth: true } : {}), ...(options.signing ? { signing: true } : {}) });
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
      const write = (): void => fs.writeFileSync(keysOut, `${JSON.stringify(lab.verificationKeys()[0], null, 2)}\n`, { mode: 0o600 });
      write();
      setInterval(write, 30_000).unref();
    }
  }
  const actual = lab.sip.ports;
  if (options.json) console.log(JSON.stringify({ event: 'ready', address: options.address, udp: actual.udp, tcp: actual.tcp, ws: actual.ws, ...(options.signing ? { signing: true } : {}) }));
  else console.log(`veilphone lab ready on ${options.address}: udp ${actual.udp}, tcp ${actual.tcp}, ws ${actual.ws}`);
  const stop = async (): Promise<void> => {
    await lab.stop();
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
