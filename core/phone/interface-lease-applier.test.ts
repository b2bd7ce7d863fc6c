import { describe, expect, it } from 'vitest';
import type { CommandRunner } from '../address/command-runner.js';
import type { Lease } from '../lease/lease.js';
import { InterfaceLeaseApplier } from './interface-lease-applier.js';

const lease = (address: string, subnetMask?: string): Lease => ({
  source: 'dhcp',
  address,
  ...(subnetMask !== undefined ? { subnetMask } : {}),
  portRange: { min: 30000, max: 30009 },
  mgc: [],
  obtainedAt: 0,
  renewAt: 1,
  rebindAt: 2,
  expiresAt: 3,
  leaseSeconds: 60,
});

/** `ip` as a list of the command lines it was given; `fail` makes lines that start with it exit 2. */
function fakeIp(fail?: string): { run: CommandRunner; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    run: async (command, args) => {
      const line = `${command} ${args.join(' ')}`;
      calls.push(line);
      return fail !== undefined && line.startsWith(fail) ? { code: 2, stdout: '', stderr: 'RTNETLINK answers: Operation not permitted' } : { code: 0, stdout: '', stderr: '' };
    },
  };
}

describe('a DHCP lease on the phone\'s interface (seed 003 Fig. 5B 572), by core/address\'s ip applier', () => {
  it('replaces the address (a lease bound again keeps it), removes it, and restores the broadcast route after', async () => {
    const ip = fakeIp();
    const applier = new InterfaceLeaseApplier('eth9', ip.run);
    await applier.ensureBroadcastRoute();
    await applier.apply(lease('10.77.0.10', '255.255.255.0'));
    await applier.apply(lease('10.77.0.10', '255.255.255.0'));
    await applier.remove(lease('10.77.0.10', '255.255.255.0'));
    await applier.apply(lease('10.77.0.11'));
    expect(ip.calls).toEqual([
      'ip route replace 255.255.255.255/32 dev eth9',
      'ip addr replace 10.77.0.10/24 dev eth9',
      'ip addr replace 10.77.0.10/24 dev eth9',
      'ip addr del 10.77.0.10/24 dev eth9',
      'ip route replace 255.255.255.255/32 dev eth9',
      'ip addr replace 10.77.0.11/32 dev eth9',
    ]);
  });

  it('fails with the lease\'s ADDRESS_APPLY_FAILED, and still restores the route when the removal fails', async () => {
    const refused = fakeIp('ip addr');
    const applier = new InterfaceLeaseApplier('eth9', refused.run);
    await expect(applier.apply(lease('10.77.0.10'))).rejects.toMatchObject({ name: 'LeaseError', code: 'ADDRESS_APPLY_FAILED', message: expect.stringContaining('Operation not permitted') });
    await expect(applier.remove(lease('10.77.0.10'))).rejects.toMatchObject({ code: 'ADDRESS_APPLY_FAILED' });
    expect(refused.calls.at(-1)).toBe('ip route replace 255.255.255.255/32 dev eth9');
    await expect(new InterfaceLeaseApplier('eth9', fakeIp('ip route').run).ensureBroadcastRoute()).rejects.toMatchObject({ code: 'ADDRESS_APPLY_FAILED' });
  });
});
