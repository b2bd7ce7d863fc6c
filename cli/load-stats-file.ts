import fs from 'node:fs';
import path from 'node:path';
import type { LoadInterval } from '../core/scenario/call-load.js';
import { loadStatsHeader, loadStatsRow } from '../core/scenario/load-stats-csv.js';

/** `veilphone run --stats FILE`: the header at once, then a row per load and interval as the load runs. */
export class LoadStatsFile {
  private fd: number | undefined;

  constructor(file: string) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.fd = fs.openSync(file, 'w');
    fs.writeSync(this.fd, `${loadStatsHeader}\n`);
  }

  write(load: string, interval: LoadInterval): void {
    if (this.fd !== undefined) fs.writeSync(this.fd, `${loadStatsRow(load, interval, new Date())}\n`);
  }

  close(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
