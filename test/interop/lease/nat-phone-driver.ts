/**
 * One phone of the NAPPT interop test, run inside its own network namespace (`ip netns exec NS node --import tsx
 * nat-phone-driver.ts '<json>'`): provisioned by real DHCP and TFTP on its interface (behind the service gateway), or
 * with a fixed address and server (the phone outside). It registers, answers calls by itself, and takes commands as
 * JSON lines on stdin: `{"cmd":"call","target":"bob"}`, `{"cmd":"hangup"}`, `{"cmd":"stop"}`. Prints one JSON object
 * per line: `registered`, `incoming`, `call` (every state change, with the media stats), `stopped`, `error`.
 */
import readline from 'node:readline';
import type { AccountConfig, PhoneEvent } from '../../../core/api/phone-types.js';
import { defaultMediaProvider } from '../../../core/phone/default-media.js';
import { Phone } from '../../../core/phone/phone.js';
import { provisionPhone, type ProvisionedPhone } from '../../../core/phone/provision-phone.js';

interface DriverConfig {
  user: string;
  dataDir: string;
  /** Lease on this interface (DHCP, then the boot file by TFTP). */
  iface?: string;
  /** Without a lease: the SIP server and the address to bind. */
  server?: string;
  localAddress?: string;
}

const config = JSON.parse(process.argv[2] ?? '{}') as DriverConfig;
const print = (value: object): void => void process.stdout.write(`${JSON.stringify(value)}\n`);

let provisioned: ProvisionedPhone | undefined;
let phone: Phone | undefined;
try {
  if (config.iface !== undefined) {
    provisioned = await provisionPhone({ network: { interface: config.iface }, dataDir: config.dataDir, timing: { initialWaitMs: 300, maxWaitMs: 1200, jitterMs: 100, maxDiscoverRounds: 4 } });
    print({ event: 'provisioned', lease: provisioned.summary });
  }
  const account: AccountConfig = {
    id: config.user,
    user: config.user,
    server: provisioned?.account.server ?? config.server!,
    transport: 'udp',
    answer: { kind: 'auto' },
    ...(config.localAddress !== undefined ? { localAddress: config.localAddress } : {}),
    ...(provisioned ? provisioned.account : {}),
  };
  const current = (phone = new Phone({ accounts: [account], createSessionDescriptionHandlerFactory: defaultMediaProvider, ...(provisioned ? { lease: provisioned.phoneLease } : {}) }));
  current.subscribe((event: PhoneEvent) => {
    if (event.type === 'registration' && event.registration.state === 'registered') print({ event: 'registered', contact: event.registration.contact });
    if (event.type === 'incoming') print({ event: 'incoming', id: event.call.id });
    if (event.type === 'call') print({ event: 'call', id: event.call.id, state: event.call.state, media: current.mediaOf(event.call.id)?.stats() });
    if (event.type === 'error') print({ event: 'error', code: event.code, message: event.message });
  });
  await current.register();
  const calls = new Set<string>();
  current.subscribe((event) => {
    if (event.type === 'call' && event.call.state !== 'terminated') calls.add(event.call.id);
    if (event.type === 'call' && event.call.state === 'terminated') calls.delete(event.call.id);
  });
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const command = JSON.parse(line) as { cmd: string; target?: string };
    if (command.cmd === 'call') {
      const call = await current.call({ target: command.target! });
      print({ event: 'placed', id: call.id });
    } else if (command.cmd === 'media') {
      // where the RTP of each running call goes and what arrived (the test waits for packets both ways)
      print({ event: 'media', calls: [...calls].map((id) => ({ id, media: current.mediaOf(id)?.stats() })) });
    } else if (command.cmd === 'hangup') {
      for (const id of [...calls]) await current.hangup(id);
    } else if (command.cmd === 'stop') {
      break;
    }
  }
  await current.shutdown(); // unregisters, and gives the lease back
  print({ event: 'stopped' });
} catch (error) {
  print({ event: 'error', code: (error as { code?: string }).code ?? 'UNEXPECTED', message: (error as Error).message });
  process.exitCode = 1;
  await phone?.shutdown().catch(() => undefined);
  await provisioned?.release().catch(() => undefined);
}
