import { describe, expect, it } from 'vitest';
import { parseLeaseSource } from './lease-source.js';

describe('parseLeaseSource', () => {
  it('reads the lab gateway form and the network form', () => {
    const gateway = { dhcp: { address: '127.0.0.1', port: 40067 }, tftp: { address: '127.0.0.1', port: 40069 } };
    expect(parseLeaseSource(JSON.stringify({ gateway }))).toEqual({ gateway });
    expect(parseLeaseSource('{"network":{"interface":"eth1"}}')).toEqual({ network: { interface: 'eth1' } });
  });

  it('refuses anything else with INVALID_ARGUMENT', () => {
    for (const text of ['', 'null', '{}', '{"network":{}}', '{"network":{"interface":"eth1"},"gateway":{}}', '{"network":{"interface":"a-name-too-long-for-linux"}}', '{"gateway":{"dhcp":{"address":"127.0.0.1","port":0},"tftp":{"address":"127.0.0.1","port":69}}}', '{"network":{"interface":"eth1","extra":1}}']) {
      expect(() => parseLeaseSource(text), text).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });
});
