import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dhcpOptionTable } from './dhcp-options.js';
import { PARAMETER_REQUEST_LIST } from './lease-client.js';
import { parseProvisioningConfig } from './provisioning-config.js';

const docs = fs.readFileSync(path.resolve(import.meta.dirname, '../../docs/provisioning.md'), 'utf8');

describe('docs/provisioning.md stays the one place the numbering is documented', () => {
  it('lists exactly the options of the codec table, with the same numbers', () => {
    const rows = [...docs.matchAll(/^\| (\d+) \| `(\w+)` \|/gm)].map((m) => [m[2], Number(m[1])]);
    const table = Object.entries(dhcpOptionTable).map(([name, spec]) => [name, spec.code]);
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(table));
    expect(rows).toHaveLength(table.length);
  });

  it('shows the parameter request list the client really sends', () => {
    expect(docs).toContain(`\`${PARAMETER_REQUEST_LIST.join(' ')}\``);
  });

  it('its config file example parses', () => {
    const example = /```ini\n([\s\S]*?)```/.exec(docs)![1]!;
    expect(parseProvisioningConfig(example).accounts[0]).toMatchObject({ id: 'desk', user: '1001' });
  });
});
