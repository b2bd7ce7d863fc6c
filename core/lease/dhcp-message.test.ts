import { describe, expect, it } from 'vitest';
import { decodeDhcpMessage, dhcpMessage, encodeDhcpMessage, encodeVendorSubOptions, parseHardwareAddress } from './dhcp-message.js';
import { dhcpOptionTable, encodeTlv } from './dhcp-options.js';
import { LeaseError } from './lease-error.js';

const chaddr = parseHardwareAddress('02:00:5e:10:00:01');

/** The options of the test OFFER: standard ones and the private ones of seed 003 (port range, MGCs, NAT address). */
const offerOptions: Parameters<typeof dhcpMessage>[0]['options'] = {
  messageType: 'OFFER',
  serverId: '10.77.0.1',
  leaseTime: 3600,
  subnetMask: '255.255.255.0',
  routers: ['10.77.0.1'],
  portRange: { min: 20000, max: 20019 },
  mgc: [
    { address: '10.77.0.5', port: 5060 },
    { address: '10.77.0.6', port: 5070 },
  ],
  natAddress: '198.51.100.7',
  tftpServer: '10.77.0.1',
  bootFile: 'veilphone.cfg',
};

function offer(extra: Partial<Parameters<typeof dhcpMessage>[0]['options']> = {}): Buffer {
  return encodeDhcpMessage(
    dhcpMessage({
      op: 2,
      xid: 0x1234abcd,
      chaddr,
      yiaddr: '10.77.0.20',
      siaddr: '10.77.0.1',
      flags: 0x8000,
      options: { ...offerOptions, ...extra },
    }),
  );
}

/** The option region of an encoded message (after the 240-byte header), to corrupt in tests. */
function withOptions(options: number[]): Buffer {
  const base = offer();
  return Buffer.concat([base.subarray(0, 240), Buffer.from(options)]);
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (error instanceof LeaseError) return error.code;
    throw error;
  }
}

describe('DHCP codec (RFC 2131 §2, RFC 2132)', () => {
  it('round-trips a message with standard and private options', () => {
    const bytes = offer();
    expect(bytes.length).toBeGreaterThanOrEqual(300);
    const message = decodeDhcpMessage(bytes);
    expect(message).toMatchObject({ op: 2, xid: 0x1234abcd, yiaddr: '10.77.0.20', siaddr: '10.77.0.1', flags: 0x8000 });
    expect(message.chaddr.equals(chaddr)).toBe(true);
    expect(message.options).toEqual(offerOptions);
  });

  it('puts the message type first and ends with option 255', () => {
    const bytes = offer();
    expect([bytes[240], bytes[241], bytes[242]]).toEqual([53, 1, 2]);
    expect(bytes.subarray(240).includes(255)).toBe(true);
  });

  it('writes private options as the documented bytes (224: two uint16, 225: address + port entries)', () => {
    const bytes = offer();
    expect(bytes.includes(Buffer.from([224, 4, 0x4e, 0x20, 0x4e, 0x33]))).toBe(true);
    expect(bytes.includes(Buffer.from([225, 12, 10, 77, 0, 5, 0x13, 0xc4, 10, 77, 0, 6, 0x13, 0xce]))).toBe(true);
    expect(bytes.includes(Buffer.from([226, 4, 198, 51, 100, 7]))).toBe(true);
  });

  it('reads the private options from option 43 sub-options too, a top-level option winning', () => {
    const vendor = encodeVendorSubOptions({ portRange: { min: 30000, max: 30099 }, mgc: [{ address: '10.0.0.9', port: 5060 }], natAddress: '203.0.113.1' });
    const message = decodeDhcpMessage(offer({ portRange: undefined, mgc: undefined, natAddress: '198.51.100.7', vendorSpecific: vendor }));
    expect(message.options.portRange).toEqual({ min: 30000, max: 30099 });
    expect(message.options.mgc).toEqual([{ address: '10.0.0.9', port: 5060 }]);
    expect(message.options.natAddress).toBe('198.51.100.7');
  });

  it('concatenates a split long option (RFC 3396) and keeps unknown options raw', () => {
    const long = 'x'.repeat(300);
    const message = dhcpMessage({ op: 2, xid: 1, chaddr, options: { messageType: 'ACK', message: long } });
    message.unknown.set(250, Buffer.from([1, 2, 3]));
    const decoded = decodeDhcpMessage(encodeDhcpMessage(message));
    expect(decoded.options.message).toBe(long);
    expect(decoded.unknown.get(250)).toEqual(Buffer.from([1, 2, 3]));
  });

  it('reads options overloaded into the file and sname fields (RFC 2132 §9.3)', () => {
    const bytes = offer({ overload: 3 });
    // file field (108..235): a boot file option; sname field (44..107): a host name option
    bytes.fill(0, 44, 236);
    encodeTlv(67, Buffer.from('over.cfg')).copy(bytes, 108);
    bytes[108 + 10] = 255;
    encodeTlv(12, Buffer.from('phone')).copy(bytes, 44);
    bytes[44 + 7] = 255;
    // RFC 3396: the same option in the options field and the file field is one value, concatenated
    const message = decodeDhcpMessage(bytes);
    expect(message.options.bootFile).toBe('veilphone.cfgover.cfg');
    expect(message.options.hostName).toBe('phone');
    expect(message.file).toBe('');
  });

  it('strips a trailing NUL some servers put on text options', () => {
    expect(decodeDhcpMessage(offer({ bootFile: 'boot.cfg\0' })).options.bootFile).toBe('boot.cfg');
  });

  describe('bad input is a typed error with a reason', () => {
    it.each([
      ['truncated header', () => offer().subarray(0, 100), 'DHCP_TRUNCATED'],
      ['oversized datagram', () => Buffer.concat([offer(), Buffer.alloc(2000)]), 'DHCP_OVERSIZED'],
      ['bad cookie', () => { const b = offer(); b[236] = 0; return b; }, 'DHCP_BAD_COOKIE'],
      ['bad op', () => { const b = offer(); b[0] = 7; return b; }, 'DHCP_BAD_HEADER'],
      ['hlen above 16', () => { const b = offer(); b[2] = 17; return b; }, 'DHCP_BAD_HEADER'],
      ['option cut off', () => withOptions([53, 1, 2, 51, 4, 0, 0]), 'DHCP_TRUNCATED'],
      ['option without its length byte', () => withOptions([53, 1, 2, 51]), 'DHCP_TRUNCATED'],
      ['no end option', () => withOptions([53, 1, 2]), 'DHCP_TRUNCATED'],
      ['lease time of 3 bytes', () => withOptions([53, 1, 2, 51, 3, 0, 0, 1, 255]), 'DHCP_BAD_OPTION_LENGTH'],
      ['server id of 5 bytes', () => withOptions([53, 1, 2, 54, 5, 1, 2, 3, 4, 5, 255]), 'DHCP_BAD_OPTION_LENGTH'],
      ['port range of 3 bytes', () => withOptions([53, 1, 2, 224, 3, 1, 2, 3, 255]), 'DHCP_BAD_OPTION_LENGTH'],
      ['port range min > max', () => withOptions([53, 1, 2, 224, 4, 0x4e, 0x33, 0x4e, 0x20, 255]), 'BAD_PORT_RANGE'],
      ['port range starting at 0', () => withOptions([53, 1, 2, 224, 4, 0, 0, 0, 10, 255]), 'BAD_PORT_RANGE'],
      ['MGC entry of 5 bytes', () => withOptions([53, 1, 2, 225, 5, 10, 0, 0, 1, 19, 255]), 'DHCP_BAD_OPTION_LENGTH'],
      ['MGC port 0', () => withOptions([53, 1, 2, 225, 6, 10, 0, 0, 1, 0, 0, 255]), 'DHCP_BAD_OPTION_VALUE'],
      ['unknown message type', () => withOptions([53, 1, 99, 255]), 'DHCP_BAD_OPTION_VALUE'],
      ['message type of 2 bytes', () => withOptions([53, 2, 1, 1, 255]), 'DHCP_BAD_OPTION_LENGTH'],
      ['no message type (BOOTP)', () => withOptions([51, 4, 0, 0, 0, 60, 255]), 'DHCP_NO_MESSAGE_TYPE'],
      ['bad overload value', () => withOptions([53, 1, 2, 52, 1, 9, 255]), 'DHCP_BAD_OPTION_VALUE'],
      ['option 43 sub-option cut off', () => withOptions([53, 1, 2, 43, 3, 224, 4, 0, 255]), 'DHCP_TRUNCATED'],
      ['option 43 port range of wrong length', () => withOptions([53, 1, 2, 43, 4, 224, 2, 0, 1, 255]), 'DHCP_BAD_OPTION_LENGTH'],
      ['client id of 1 byte', () => withOptions([53, 1, 1, 61, 1, 1, 255]), 'DHCP_BAD_OPTION_LENGTH'],
      ['empty host name', () => withOptions([53, 1, 1, 12, 0, 255]), 'DHCP_BAD_OPTION_LENGTH'],
    ])('%s', (_name, make, code) => {
      let reason = '';
      try {
        decodeDhcpMessage(make());
      } catch (error) {
        expect(error).toBeInstanceOf(LeaseError);
        expect((error as LeaseError).code).toBe(code);
        reason = (error as LeaseError).message;
      }
      expect(reason).not.toBe('');
    });

    it('a larger limit accepts a larger datagram (option 57 raised it)', () => {
      const big = Buffer.concat([withOptions([53, 1, 2]), Buffer.from([255]), Buffer.alloc(1600)]);
      expect(codeOf(() => decodeDhcpMessage(big))).toBe('DHCP_OVERSIZED');
      expect(codeOf(() => decodeDhcpMessage(big, { maxBytes: 4000 }))).toBeUndefined();
    });

    it('never throws anything but a LeaseError on random mutations (fuzz, 3000 rounds)', () => {
      let seed = 12345;
      const random = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
      const base = offer();
      const outcomes = new Map<string, number>();
      for (let round = 0; round < 3000; round++) {
        const bytes = Buffer.from(base.subarray(0, random() < 0.2 ? Math.floor(random() * base.length) : base.length));
        const flips = 1 + Math.floor(random() * 6);
        for (let i = 0; i < flips && bytes.length > 240; i++) bytes[240 + Math.floor(random() * (bytes.length - 240))] = Math.floor(random() * 256);
        let outcome = 'ok';
        try {
          decodeDhcpMessage(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(LeaseError);
          outcome = (error as LeaseError).code;
        }
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
      // the fuzz reached both accepted and several kinds of rejected packets
      expect(outcomes.get('ok') ?? 0).toBeGreaterThan(0);
      expect(outcomes.size).toBeGreaterThan(3);
    });
  });

  it('has one table entry per option code', () => {
    const codes = Object.values(dhcpOptionTable).map((s) => s.code);
    expect(new Set(codes).size).toBe(codes.length);
  });
});
