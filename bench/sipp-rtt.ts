import fs from 'node:fs';
import path from 'node:path';

/**
 * SIPp 3.6's `-trace_rtt` file: a header line, then `Date_ms;response_time_ms;rtd_no` lines (the response time is the
 * second column, in ms; the third names the rtd counter, 1 for the first). Returns the response times of `rtd` 1.
 */
export function parseRtt(text: string): number[] {
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line.length > 0);
  const header = lines[0]?.split(';') ?? [];
  const column = header.findIndex((name) => /^response_time/i.test(name));
  if (column < 0) throw new Error(`not a SIPp rtt file: header ${JSON.stringify(lines[0])}`);
  const rtdColumn = header.findIndex((name) => /^rtd_no/i.test(name));
  return lines
    .slice(1)
    .map((line) => line.split(';'))
    .filter((fields) => rtdColumn < 0 || fields[rtdColumn] === '1')
    .map((fields) => Number(fields[column]))
    .filter((value) => Number.isFinite(value));
}

/** The response times in the one `*_rtt.csv` SIPp wrote into `dir`. */
export function readRtt(dir: string): number[] {
  const file = fs.readdirSync(dir).find((f) => f.endsWith('_rtt.csv'));
  if (!file) throw new Error(`no SIPp rtt file in ${dir}`);
  return parseRtt(fs.readFileSync(path.join(dir, file), 'utf8'));
}
