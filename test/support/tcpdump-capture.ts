import fs from 'node:fs';
import type { Child } from './child.js';
import { readPcap, type CapturedPacket } from './pcap-reader.js';

/**
 * Stop a tcpdump writing `file` once the file has stopped growing (the session's last packets are in; bounded to
 * about 10 s), and read what it captured.
 */
export async function stopCapture(child: Child, file: string): Promise<CapturedPacket[]> {
  let size = -1;
  for (let tries = 0; tries < 50 && fs.statSync(file).size !== size; tries++) {
    size = fs.statSync(file).size;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  child.process.kill('SIGINT');
  await child.exitCode(10_000);
  return readPcap(fs.readFileSync(file));
}
