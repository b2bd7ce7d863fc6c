import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LeaseError } from './lease-error.js';
import { natAddresses, natContactParams, parseNatContactParams } from './nat-contact.js';
import { applyProvisioning, parseProvisioningConfig } from './provisioning-config.js';

const lease = {
  address: '10.77.0.23',
  natAddress: '198.51.100.7',
  mgc: [
    { address: '10.77.0.5', port: 5060 },
    { address: '10.77.0.6', port: 5070 },
  ],
};

const sample = `
# provisioning for the front desk
[veilphone]
format = 1
registrar = mgc
transport = udp
register_expires = 600

[account desk]
user = 1001
display_name = Front Desk
password = s3cr;et#1
anonymous = yes
anonymity_mode = header
anonymity_level = full

[account fax]
user = 1002
transport = tcp

[dial_plan]
184 = withhold Caller ID withheld
186 = present
`;

function codeAndMessage(text: string): [string, string] {
  try {
    parseProvisioningConfig(text);
  } catch (error) {
    if (error instanceof LeaseError) return [error.code, error.message];
    throw error;
  }
  return ['', ''];
}

describe('provisioning file (format 1) → account settings', () => {
  it('parses accounts, defaults, anonymity and the dial plan; passwords keep ; and #', () => {
    const config = parseProvisioningConfig(sample);
    expect(config).toEqual({
      format: 1,
      registrar: 'mgc',
      transport: 'udp',
      registerExpires: 600,
      accounts: [
        { id: 'desk', user: '1001', displayName: 'Front Desk', password: 's3cr;et#1', registerExpires: 600, anonymity: { anonymous: true, mode: 'header', level: 'full' } },
        { id: 'fax', user: '1002', transport: 'tcp', registerExpires: 600 },
      ],
      dialPlan: [
        { prefix: '184', action: 'withhold', label: 'Caller ID withheld' },
        { prefix: '186', action: 'present', label: 'Show caller ID' },
      ],
    });
  });

  it('applies it with the lease: the primary MGC is every account\'s server, both MGCs go to the selector', () => {
    const result = applyProvisioning(parseProvisioningConfig(sample), lease);
    expect(result.registrarSource).toBe('lease');
    expect(result.mgc).toEqual(lease.mgc);
    expect(result.privateAddress).toBe('10.77.0.23');
    expect(result.natAddress).toBe('198.51.100.7');
    expect(result.accounts).toEqual([
      expect.objectContaining({ id: 'desk', user: '1001', server: 'sip:10.77.0.5:5060', transport: 'udp', password: 's3cr;et#1', anonymity: { anonymous: true, mode: 'header', level: 'full' }, dialRules: result.dialRules }),
      expect.objectContaining({ id: 'fax', user: '1002', server: 'sip:10.77.0.5:5060', transport: 'tcp' }),
    ]);
  });

  it('an explicit registrar wins over the lease', () => {
    const config = parseProvisioningConfig('[veilphone]\nformat = 1\nregistrar = sip:192.0.2.1:5080, sip:192.0.2.2\ndomain = example.net\n[account a]\n');
    const result = applyProvisioning(config, lease);
    expect(result.registrarSource).toBe('config');
    expect(result.mgc).toEqual([
      { address: '192.0.2.1', port: 5080 },
      { address: '192.0.2.2', port: 5060 },
    ]);
    expect(result.accounts[0]).toMatchObject({ user: 'a', server: 'sip:192.0.2.1:5080', domain: 'example.net' });
  });

  it('"registrar = mgc" without an MGC in the lease is NO_MGC (Fig. 6A 608)', () => {
    expect(() => applyProvisioning(parseProvisioningConfig('[veilphone]\nformat = 1\n[account a]\n'), { address: '10.0.0.2', mgc: [] })).toThrow(expect.objectContaining({ code: 'NO_MGC' }));
  });

  it.each([
    ['no [veilphone]', '[account a]\n', /format = 1/],
    ['format 2', '[veilphone]\nformat = 2\n[account a]\n', /format 2 is not supported/],
    ['no account', '[veilphone]\nformat = 1\n', /no \[account NAME\]/],
    ['unknown key', '[veilphone]\nformat = 1\n[account a]\npasword = x\n', /line 4: unknown key "pasword"/],
    ['unknown section', '[veilphone]\nformat = 1\n[acount a]\n', /line 3: unknown section/],
    ['bad transport', '[veilphone]\nformat = 1\ntransport = sctp\n[account a]\n', /line 3: transport "sctp"/],
    ['bad expires', '[veilphone]\nformat = 1\n[account a]\nregister_expires = -5\n', /register_expires/],
    ['bad dial action', '[veilphone]\nformat = 1\n[account a]\n[dial_plan]\n184 = hide\n', /line 5: dial plan action "hide"/],
    ['bad dial prefix', '[veilphone]\nformat = 1\n[account a]\n[dial_plan]\nabc = withhold\n', /dial prefix "abc"/],
    ['not key=value', '[veilphone]\nformat = 1\njunk\n', /line 3: expected "key = value"/],
    ['duplicate key', '[veilphone]\nformat = 1\nformat = 1\n', /"format" set twice/],
    ['duplicate account', '[veilphone]\nformat = 1\n[account a]\n[account a]\n', /appears twice/],
    ['bad user', '[veilphone]\nformat = 1\n[account a]\nuser = bad user\n', /not a plain SIP user/],
    ['bad registrar', '[veilphone]\nformat = 1\nregistrar = http://x\n[account a]\n', /registrar must be/],
    ['setting before a section', 'format = 1\n', /before any section/],
    ['bad anonymity', '[veilphone]\nformat = 1\n[account a]\nanonymous = maybe\n', /anonymous must be yes or no/],
  ])('rejects %s with BAD_CONFIG and the line', (_name, text, pattern) => {
    const [code, message] = codeAndMessage(text);
    expect(code).toBe('BAD_CONFIG');
    expect(message).toMatch(pattern);
  });

  it('the reference file shipped for tftpd-hpa parses', () => {
    const file = path.resolve(import.meta.dirname, '../../deploy/tftpd/veilphone.cfg');
    const config = parseProvisioningConfig(fs.readFileSync(file, 'utf8'));
    expect(config.accounts.length).toBeGreaterThan(0);
  });
});

describe('REGISTER parameters for the private and NAT public address', () => {
  it('writes and reads back veil-private / veil-public with the port unchanged', () => {
    const addresses = natAddresses('10.77.0.23', 20000, '198.51.100.7');
    const params = natContactParams(addresses);
    expect(params).toEqual(['veil-private="10.77.0.23:20000"', 'veil-public="198.51.100.7:20000"']);
    const contact = `<sip:1001@10.77.0.23:20000;transport=udp>;expires=600;${params.join(';')}`;
    expect(parseNatContactParams(contact)).toEqual(addresses);
  });

  it('without NAT the public address is the private one; missing or malformed parameters read as undefined', () => {
    expect(natAddresses('192.0.2.5', 5062)).toEqual({ private: { address: '192.0.2.5', port: 5062 }, public: { address: '192.0.2.5', port: 5062 } });
    expect(parseNatContactParams('<sip:a@1.2.3.4>;expires=60')).toBeUndefined();
    expect(parseNatContactParams('<sip:a@1.2.3.4>;veil-private="1.2.3.4:99999";veil-public="5.6.7.8:1"')).toBeUndefined();
    expect(parseNatContactParams('<sip:a@1.2.3.4>;veil-private="1.2.3.400:5060";veil-public="5.6.7.8:1"')).toBeUndefined();
    // a parameter inside the URI is not a header parameter
    expect(parseNatContactParams('<sip:a@1.2.3.4;veil-private="1.2.3.4:5">;veil-public="5.6.7.8:1"')).toBeUndefined();
  });
});
