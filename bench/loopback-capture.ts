import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sipMessages, type CapturedSip } from '../test/support/capture-scan.js';
import { Child } from '../test/support/child.js';
import { readPcap } from '../test/support/pcap-reader.js';

/** tcpdump on loopback for the UDP ports given: what crossed, with the kernel's packet timestamps (µs). */
export async function captureLoopback(ports: number[]): Promise<{ stop(): Promise<CapturedSip[]> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-bench-pcap-'));
  const file = path.join(dir, 'lo.pcap');
  const filter = ports.map((port) => `udp port ${port}`).join(' or ');
  const child = Child.start('tcpdump', ['-i', 'lo', '-n', '-U', '--immediate-mode', '-s', '0', '-w', file, filter]);
  await child.waitFor(/listening on/);
  return {
    async stop() {
      await child.stop();
      const messages = sipMessages(readPcap(fs.readFileSync(file)));
      fs.rmSync(dir, { recursive: true, force: true });
      return messages;
    },
  };
}
