import { describe, expect, it } from 'vitest';
import { parseRtt } from './sipp-rtt.js';

describe("SIPp 3.6's -trace_rtt file", () => {
  it('reads the response time from the second column, not the rtd number', () => {
    // as SIPp 3.6.1 writes it (header, then one line per measured response)
    const text = 'Date_ms;response_time_ms;rtd_no\n1733329001234.567;4.000000;1\n1733329001240.100;8.000000;1\n';
    expect(parseRtt(text)).toEqual([4, 8]);
  });

  it('keeps only the first rtd counter when a scenario has several', () => {
    const text = 'Date_ms;response_time_ms;rtd_no\n1.0;4.0;1\n2.0;12.0;2\n3.0;8.0;1\n';
    expect(parseRtt(text)).toEqual([4, 8]);
  });

  it('refuses a file without a response-time column', () => {
    expect(() => parseRtt('a;b;c\n1;2;3\n')).toThrow(/not a SIPp rtt file/);
  });
});
