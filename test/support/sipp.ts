import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Child } from './child.js';

export const sippScenarios = path.resolve(import.meta.dirname, '../interop/sipp');

export interface SippOptions {
  /** Scenario file name under test/interop/sipp, or an absolute path. */
  scenario: string;
  /** `host:port` to send to (omit for a UAS). */
  remote?: string;
  localPort: number;
  /** Its own address: 127.0.0.1 by default, or ::1. */
  localAddress?: '127.0.0.1' | '::1';
  service?: string;
  transport?: 'u1' | 't1';
  calls?: number;
  rate?: number;
  keys?: Record<string, string>;
  mediaPort?: number;
  extra?: string[];
  /** Hard limit: SIPp's own -timeout, so it always ends by itself. */
  timeoutS?: number;
}

/** Start SIPp on loopback in a scratch directory (its log files land there). */
export function startSipp(options: SippOptions): Child {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-sipp-'));
  const scenario = path.isAbsolute(options.scenario) ? options.scenario : path.join(sippScenarios, options.scenario);
  const args = [
    ...(options.remote ? [options.remote] : []),
    '-sf', scenario,
    '-i', options.localAddress ?? '127.0.0.1',
    '-p', String(options.localPort),
    '-t', options.transport ?? 'u1',
    '-m', String(options.calls ?? 1),
    '-r', String(options.rate ?? 10),
    '-timeout', `${options.timeoutS ?? 30}s`,
    '-timeout_error',
    '-nostdin',
  ];
  if (options.service) args.push('-s', options.service);
  if (options.mediaPort) args.push('-mp', String(options.mediaPort));
  for (const [key, value] of Object.entries(options.keys ?? {})) args.push('-key', key, value);
  args.push('-trace_err', ...(options.extra ?? []));
  return Child.start('sipp', args, { cwd: dir });
}

/** SIPp's last words, for an assertion's message. */
export function sippOutput(sipp: Child): string {
  return `SIPp: ${sipp.stdout.slice(-1500)}\n${sipp.stderr.slice(-1500)}`;
}

/** Until a SIPp UAS accepts TCP connections on `port` of `address` (a phone calling it first would be refused); bounded. */
export async function sippListening(port: number, sipp: Child, address = '127.0.0.1'): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const up = await new Promise<boolean>((resolve) => {
      const probe = net.connect(port, address);
      probe.once('connect', () => (probe.destroy(), resolve(true)));
      probe.once('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`SIPp never listened on TCP ${port}\n${sippOutput(sipp)}`);
}
