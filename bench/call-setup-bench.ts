import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { defaultMediaProvider } from '../core/phone/default-media.js';
import { Phone } from '../core/phone/phone.js';
import { freePort } from '../test/support/free-port.js';
import { KamailioServer } from '../test/support/kamailio.js';
import { startSipp } from '../test/support/sipp.js';
import { startLabProcess } from '../test/support/veilphone-cli.js';
import { median, ms, quantile, type BenchResult } from './bench-result.js';
import { callReaches } from './call-states.js';

const calls = Number(process.env.BENCH_CALLS ?? 100);
const uacQuick = path.resolve(import.meta.dirname, 'sipp/uac-quick.xml');

/** Veilphone phones (this process) calling each other through the embedded lab (its own process, as `veilphone lab`). */
async function veilphoneThroughLab(): Promise<{ setup: number[]; register: number[] }> {
  const lab = await startLabProcess();
  const phone = (user: string, answer?: 'auto'): Phone =>
    new Phone({
      accounts: [{ id: user, user, server: lab.servers.udp, transport: 'udp', domain: '127.0.0.1', ...(answer ? { answer: { kind: 'auto' } } : {}) }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
    });
  const alice = phone('alice');
  const bob = phone('bob', 'auto');
  try {
    const register: number[] = [];
    await bob.register();
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      await alice.register();
      register.push(performance.now() - t0);
    }
    const setup: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      let id = '';
      const established = callReaches(alice, () => id, 'established');
      id = (await alice.call({ target: 'bob' })).id;
      await established;
      setup.push(performance.now() - t0);
      const ended = callReaches(alice, () => id, 'terminated');
      await alice.hangup(id);
      await ended;
    }
    return { setup, register };
  } finally {
    await alice.shutdown();
    await bob.shutdown();
    await lab.child.stop();
  }
}

/** SIPp UAC → Kamailio → SIPp UAS, one call at a time, INVITE → 200 as SIPp's own response-time measure. */
async function sippThroughKamailio(): Promise<{ setup: number[]; register: number[] }> {
  const kamailio = await KamailioServer.start();
  try {
    const remote = `127.0.0.1:${kamailio.port}`;
    const uasPort = await freePort();
    const uas = startSipp({ scenario: 'uas.xml', localPort: uasPort, calls, timeoutS: 120 });
    const register = startSipp({ scenario: 'register.xml', remote, localPort: await freePort(), service: 'sipp', calls, rate: 1000, keys: { contact_port: String(uasPort), expires: '300' }, extra: ['-l', '1', '-trace_rtt', '-rtt_freq', '1'] });
    if ((await register.exitCode(120_000)) !== 0) throw new Error(`SIPp register failed: ${register.stderr}`);
    const uac = startSipp({ scenario: uacQuick, remote, localPort: await freePort(), service: 'sipp', calls, rate: 1000, timeoutS: 120, extra: ['-l', '1', '-trace_rtt', '-rtt_freq', '1'] });
    if ((await uac.exitCode(180_000)) !== 0) throw new Error(`SIPp UAC failed: ${uac.stdout.slice(-2000)} ${uac.stderr}`);
    if ((await uas.exitCode(30_000)) !== 0) throw new Error(`SIPp UAS failed: ${uas.stderr}`);
    return { setup: readRtt(uac.cwd), register: readRtt(register.cwd) };
  } finally {
    await kamailio.stop();
  }
}

/** SIPp's `-trace_rtt` file: `date;date_ms;response_time;rtd_no` lines, response time in ms. */
function readRtt(dir: string): number[] {
  const file = fs.readdirSync(dir).find((f) => f.endsWith('_rtt.csv'));
  if (!file) throw new Error(`no SIPp rtt file in ${dir}`);
  return fs
    .readFileSync(path.join(dir, file), 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => Number(line.split(';')[2]))
    .filter((value) => Number.isFinite(value));
}

export async function benchCallSetup(): Promise<BenchResult> {
  const ours = await veilphoneThroughLab();
  const anchor = await sippThroughKamailio();
  const row = (name: string, values: number[]): string => `| ${name} | ${values.length} | ${ms(median(values))} | ${ms(quantile(values, 0.9))} |`;
  const setupRatio = median(ours.setup) / median(anchor.setup);
  const registerRatio = median(ours.register) / median(anchor.register);
  return {
    title: 'Call setup and registration (issue 2)',
    lines: [
      `${calls} sequential calls each way on loopback UDP; Veilphone: two phones in one process through \`veilphone lab\` (its own`,
      'process); anchor: SIPp UAC → Kamailio (deploy/kamailio/kamailio.cfg) → SIPp UAS, SIPp measuring INVITE → 200 itself.',
      '',
      '| measure | n | median | p90 |',
      '| --- | --- | --- | --- |',
      row('Veilphone → lab → Veilphone: INVITE → 200 (established)', ours.setup),
      row('SIPp → Kamailio → SIPp: INVITE → 200', anchor.setup),
      row('Veilphone REGISTER → 200 through the lab', ours.register),
      row('SIPp REGISTER → 200 through Kamailio', anchor.register),
      '',
      `Setup ratio Veilphone/SIPp: **${setupRatio.toFixed(2)}×** (target ≤ 1.5×); register ratio: ${registerRatio.toFixed(2)}×.`,
      'SIPp writes response times in whole milliseconds, so its medians read 1 ms at best and the ratios above are lower bounds.',
    ],
    ratios: { callSetup: setupRatio, register: registerRatio },
  };
}
