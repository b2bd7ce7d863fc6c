import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import type { Child } from '../test/support/child.js';
import { veilphone } from '../test/support/veilphone-cli.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-lab-tls-'));
const children: Child[] = [];
afterAll(async () => {
  await Promise.all(children.map((c) => c.stop()));
  fs.rmSync(scratch, { recursive: true, force: true });
});

interface Ready {
  tls: number;
  wss: number;
  fingerprint: string;
}

async function startLab(): Promise<{ child: Child; ready: Ready }> {
  const child = veilphone(['--data-dir', scratch, 'lab', '--udp', '0', '--tcp', '0', '--ws', '0', '--tls', '0', '--wss', '0', '--json']);
  children.push(child);
  const ready = JSON.parse((await child.waitFor(/^\{"event":"ready".*\}$/m))[0]) as Ready;
  return { child, ready };
}

function peerFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    // the fingerprint is what is checked here, not a chain: the lab's certificate is self-signed
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

describe('veilphone lab --tls --wss (issue 18)', () => {
  it('serves TLS and WSS with the certificate it made on first start, prints its fingerprint, and keeps it across restarts', async () => {
    const first = await startLab();
    expect(first.ready.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(await peerFingerprint(first.ready.tls)).toBe(first.ready.fingerprint);
    expect(await peerFingerprint(first.ready.wss)).toBe(first.ready.fingerprint);
    expect(fs.statSync(path.join(scratch, 'lab-tls', 'key.pem')).mode & 0o777).toBe(0o600);
    await first.child.stop();
    const second = await startLab();
    expect(second.ready.fingerprint).toBe(first.ready.fingerprint);
    const text = veilphone(['--data-dir', scratch, 'lab', '--udp', '0', '--tcp', '0', '--ws', '0', '--tls', '0']);
    children.push(text);
    const [line] = await text.waitFor(/^TLS certificate SHA-256 fingerprint \S+$/m);
    expect(line).toBe(`TLS certificate SHA-256 fingerprint ${first.ready.fingerprint}`);
  }, 60_000);
});
