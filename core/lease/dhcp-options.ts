import { ipv4Bytes, readIpv4 } from './ipv4.js';
import { LeaseError } from './lease-error.js';

/** RFC 2132 §9.6 message types. */
export const DhcpMessageTypes = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;
export type DhcpMessageType = keyof typeof DhcpMessageTypes;
const messageTypeNames = new Map<number, DhcpMessageType>(Object.entries(DhcpMessageTypes).map(([name, code]) => [code, name as DhcpMessageType]));

/** The leased range of UDP/TCP ports (seed 003 "NAT/NAPT/NAPPT", Fig. 4B 452), inclusive. */
export interface PortRange {
  min: number;
  max: number;
}

/** A soft switch (MGC, here the SIP registrar/proxy) address: the seed's MGC primary/secondary. */
export interface MgcAddress {
  address: string;
  port: number;
}

/** Every option the codec understands, by name. Options not listed here are kept raw (`DhcpMessage.unknown`). */
export interface DhcpOptionValues {
  subnetMask: string;
  routers: string[];
  dnsServers: string[];
  hostName: string;
  domainName: string;
  vendorSpecific: Buffer;
  requestedAddress: string;
  leaseTime: number;
  overload: number;
  messageType: DhcpMessageType;
  serverId: string;
  parameterRequestList: number[];
  message: string;
  maxMessageSize: number;
  renewalTime: number;
  rebindingTime: number;
  vendorClass: string;
  clientId: Buffer;
  tftpServer: string;
  bootFile: string;
  portRange: PortRange;
  mgc: MgcAddress[];
  natAddress: string;
  householdNumber: string;
}

export type DhcpOptions = Partial<DhcpOptionValues>;

/** Why an option's bytes are wrong: their length, or a value out of its domain. */
class OptionProblem {
  constructor(
    readonly kind: 'length' | 'value',
    readonly reason: string,
  ) {}
}

const badLength = (reason: string): OptionProblem => new OptionProblem('length', reason);
const badValue = (reason: string): OptionProblem => new OptionProblem('value', reason);

/** How one kind of option value is checked, read and written. `decode` throws an OptionProblem. */
interface OptionCodec<T> {
  /** Human description of the valid lengths, for error messages and docs. */
  length: string;
  decode(bytes: Buffer): T;
  encode(value: T): Buffer;
}

export interface OptionSpec<T> {
  code: number;
  /** Where the option comes from, cited in docs/provisioning.md. */
  source: string;
  codec: OptionCodec<T>;
}

function fixed<T>(size: number, decode: (bytes: Buffer) => T, encode: (value: T) => Buffer): OptionCodec<T> {
  return {
    length: `${size} bytes`,
    decode: (bytes) => {
      if (bytes.length !== size) throw badLength(`must be ${size} bytes, got ${bytes.length}`);
      return decode(bytes);
    },
    encode,
  };
}

const ipv4: OptionCodec<string> = fixed(4, (b) => readIpv4(b), (v) => ipv4Bytes(v));
const u8: OptionCodec<number> = fixed(1, (b) => b[0]!, (v) => Buffer.from([v]));
const u16: OptionCodec<number> = fixed(2, (b) => b.readUInt16BE(0), (v) => {
  const out = Buffer.alloc(2);
  out.writeUInt16BE(v);
  return out;
});
const u32: OptionCodec<number> = fixed(4, (b) => b.readUInt32BE(0), (v) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(v >>> 0);
  return out;
});

const ipv4List: OptionCodec<string[]> = {
  length: 'a multiple of 4 bytes, at least 4',
  decode: (bytes) => {
    if (bytes.length === 0 || bytes.length % 4 !== 0) throw badLength(`must be a multiple of 4 bytes, got ${bytes.length}`);
    return Array.from({ length: bytes.length / 4 }, (_, i) => readIpv4(bytes, i * 4));
  },
  encode: (list) => Buffer.concat(list.map((a) => ipv4Bytes(a))),
};

/** RFC 2132 §2: NVT ASCII, not NUL-terminated; some servers add a NUL anyway, which is dropped. */
const text: OptionCodec<string> = {
  length: 'at least 1 byte',
  decode: (bytes) => {
    if (bytes.length === 0) throw badLength('must not be empty');
    return bytes.toString('utf8').replace(/\0+$/, '');
  },
  encode: (value) => Buffer.from(value, 'utf8'),
};

const bytesCodec: OptionCodec<Buffer> = {
  length: 'at least 1 byte',
  decode: (bytes) => {
    if (bytes.length === 0) throw badLength('must not be empty');
    return Buffer.from(bytes);
  },
  encode: (value) => Buffer.from(value),
};

/** RFC 2132 §9.14: a type byte and at least one byte of identifier. */
const clientIdCodec: OptionCodec<Buffer> = {
  length: 'at least 2 bytes',
  decode: (bytes) => {
    if (bytes.length < 2) throw badLength(`must be at least 2 bytes (type and identifier), got ${bytes.length}`);
    return Buffer.from(bytes);
  },
  encode: (value) => Buffer.from(value),
};

const codeList: OptionCodec<number[]> = {
  length: 'at least 1 byte',
  decode: (bytes) => {
    if (bytes.length === 0) throw badLength('must not be empty');
    return [...bytes];
  },
  encode: (codes) => Buffer.from(codes),
};

const messageType: OptionCodec<DhcpMessageType> = fixed(
  1,
  (b) => {
    const name = messageTypeNames.get(b[0]!);
    if (name === undefined) throw badValue(`unknown message type ${b[0]}`);
    return name;
  },
  (v) => Buffer.from([DhcpMessageTypes[v]]),
);

/** Private option 224: two big-endian uint16, first and last port, inclusive; min > max or port 0 is refused. */
const portRange: OptionCodec<PortRange> = fixed(
  4,
  (b) => {
    const range = { min: b.readUInt16BE(0), max: b.readUInt16BE(2) };
    const problem = portRangeProblem(range);
    if (problem !== undefined) throw badValue(problem);
    return range;
  },
  (v) => {
    const out = Buffer.alloc(4);
    out.writeUInt16BE(v.min, 0);
    out.writeUInt16BE(v.max, 2);
    return out;
  },
);

/** Private option 225: 1 to 4 entries of IPv4 address + big-endian uint16 port; the first is the primary. */
const mgcList: OptionCodec<MgcAddress[]> = {
  length: '6, 12, 18 or 24 bytes',
  decode: (bytes) => {
    if (bytes.length === 0 || bytes.length % 6 !== 0 || bytes.length > 24) throw badLength(`must be 1 to 4 entries of 6 bytes, got ${bytes.length} bytes`);
    return Array.from({ length: bytes.length / 6 }, (_, i) => {
      const port = bytes.readUInt16BE(i * 6 + 4);
      if (port === 0) throw badValue(`entry ${i + 1} has port 0`);
      return { address: readIpv4(bytes, i * 6), port };
    });
  },
  encode: (list) =>
    Buffer.concat(
      list.map((m) => {
        const out = Buffer.alloc(6);
        ipv4Bytes(m.address).copy(out, 0);
        out.writeUInt16BE(m.port, 4);
        return out;
      }),
    ),
};

/** Why a port range is unusable, or undefined when it is fine. */
export function portRangeProblem(range: PortRange): string | undefined {
  const { min, max } = range;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535) return `ports must be 1-65535, got ${min}-${max}`;
  if (min > max) return `first port ${min} is above last port ${max}`;
  return undefined;
}

/**
 * The option table: the one place option numbers live in code. docs/provisioning.md documents the same table
 * for operators (a test keeps the two in step).
 */
export const dhcpOptionTable: { [K in keyof DhcpOptionValues]: OptionSpec<DhcpOptionValues[K]> } = {
  subnetMask: { code: 1, source: 'RFC 2132 §3.3', codec: ipv4 },
  routers: { code: 3, source: 'RFC 2132 §3.5', codec: ipv4List },
  dnsServers: { code: 6, source: 'RFC 2132 §3.8', codec: ipv4List },
  hostName: { code: 12, source: 'RFC 2132 §3.14', codec: text },
  domainName: { code: 15, source: 'RFC 2132 §3.17', codec: text },
  vendorSpecific: { code: 43, source: 'RFC 2132 §8.4', codec: bytesCodec },
  requestedAddress: { code: 50, source: 'RFC 2132 §9.1', codec: ipv4 },
  leaseTime: { code: 51, source: 'RFC 2132 §9.2', codec: u32 },
  overload: { code: 52, source: 'RFC 2132 §9.3', codec: u8 },
  messageType: { code: 53, source: 'RFC 2132 §9.6', codec: messageType },
  serverId: { code: 54, source: 'RFC 2132 §9.7', codec: ipv4 },
  parameterRequestList: { code: 55, source: 'RFC 2132 §9.8', codec: codeList },
  message: { code: 56, source: 'RFC 2132 §9.9', codec: text },
  maxMessageSize: { code: 57, source: 'RFC 2132 §9.10', codec: u16 },
  renewalTime: { code: 58, source: 'RFC 2132 §9.11', codec: u32 },
  rebindingTime: { code: 59, source: 'RFC 2132 §9.12', codec: u32 },
  vendorClass: { code: 60, source: 'RFC 2132 §9.13', codec: text },
  clientId: { code: 61, source: 'RFC 2132 §9.14', codec: clientIdCodec },
  tftpServer: { code: 66, source: 'RFC 2132 §9.4', codec: text },
  bootFile: { code: 67, source: 'RFC 2132 §9.5', codec: text },
  portRange: { code: 224, source: 'private (RFC 2132 §1: 224-254 site-specific); seed 003 "DHCP"', codec: portRange },
  mgc: { code: 225, source: 'private; seed 003 "DHCP", Figs. 6A 608 / 7A 708', codec: mgcList },
  natAddress: { code: 226, source: 'private; seed 003 "DHCP" (the NAT address the SG uses)', codec: ipv4 },
  householdNumber: { code: 227, source: 'private; seed 001 ¶[52]/¶[57] (a room gateway\'s allocation: the terminal\'s number)', codec: text },
};

export type DhcpOptionName = keyof DhcpOptionValues;

const byCode = new Map<number, DhcpOptionName>(Object.entries(dhcpOptionTable).map(([name, spec]) => [spec.code, name as DhcpOptionName]));

/** The private options a Veilphone server may also send as option 43 sub-options, with the same numbers. */
export const vendorSubOptions: readonly DhcpOptionName[] = ['portRange', 'mgc', 'natAddress'];

export function optionName(code: number): DhcpOptionName | undefined {
  return byCode.get(code);
}

/** Decode one option's bytes by the table; a wrong length or value is a typed error naming the option. */
export function decodeOption<K extends DhcpOptionName>(name: K, bytes: Buffer): DhcpOptionValues[K] {
  const spec = dhcpOptionTable[name];
  try {
    return spec.codec.decode(bytes);
  } catch (problem) {
    if (!(problem instanceof OptionProblem)) throw problem;
    const code = problem.kind === 'length' ? 'DHCP_BAD_OPTION_LENGTH' : name === 'portRange' ? 'BAD_PORT_RANGE' : 'DHCP_BAD_OPTION_VALUE';
    throw new LeaseError(code, `option ${spec.code} (${name}) ${problem.reason}`);
  }
}

export function encodeOption<K extends DhcpOptionName>(name: K, value: DhcpOptionValues[K]): Buffer {
  return dhcpOptionTable[name].codec.encode(value);
}

/**
 * RFC 2132 §2 TLV walk over `bytes` (pad 0 skipped, end 255 stops), concatenating repeated codes (RFC 3396 §5).
 * Returns whether an end option was seen.
 */
export function walkOptions(bytes: Buffer, into: Map<number, Buffer>, where: string): { ended: boolean } {
  let i = 0;
  while (i < bytes.length) {
    const code = bytes[i]!;
    if (code === 0) {
      i++;
      continue;
    }
    if (code === 255) return { ended: true };
    if (i + 1 >= bytes.length) throw new LeaseError('DHCP_TRUNCATED', `${where}: option ${code} has no length byte`);
    const length = bytes[i + 1]!;
    if (i + 2 + length > bytes.length) throw new LeaseError('DHCP_TRUNCATED', `${where}: option ${code} claims ${length} bytes, only ${bytes.length - i - 2} left`);
    const data = bytes.subarray(i + 2, i + 2 + length);
    const previous = into.get(code);
    into.set(code, previous ? Buffer.concat([previous, data]) : Buffer.from(data));
    i += 2 + length;
  }
  return { ended: false };
}

/** Options as TLV bytes, long values split into 255-byte pieces (RFC 3396 §7), without the end option. */
export function encodeTlv(code: number, value: Buffer): Buffer {
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < value.length || pieces.length === 0; offset += 255) {
    const chunk = value.subarray(offset, offset + 255);
    pieces.push(Buffer.from([code, chunk.length]), chunk);
    if (value.length === 0) break;
  }
  return Buffer.concat(pieces);
}
