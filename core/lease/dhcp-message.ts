import {
  decodeOption,
  dhcpOptionTable,
  encodeOption,
  encodeTlv,
  optionName,
  vendorSubOptions,
  walkOptions,
  type DhcpOptionName,
  type DhcpOptions,
  type DhcpOptionValues,
} from './dhcp-options.js';
import { ipv4Bytes, readIpv4 } from './ipv4.js';
import { LeaseError } from './lease-error.js';

/** RFC 2131 §3: the magic cookie that starts the options field. */
const MAGIC_COOKIE = 0x63825363;
/** RFC 2131 §2: op, htype, hlen, hops, xid, secs, flags, four addresses, chaddr, sname, file. */
const FIXED_BYTES = 236;
/** RFC 2131 §2 / RFC 1542 §3.1: a message is padded to at least 300 bytes for BOOTP relays. */
const MIN_SEND_BYTES = 300;
/** What we accept by default: an Ethernet-sized datagram (RFC 2131 §2 lets a client raise 576 with option 57). */
export const DEFAULT_MAX_DHCP_BYTES = 1500;

export const BROADCAST_FLAG = 0x8000;

export interface DhcpMessage {
  /** 1 BOOTREQUEST (client), 2 BOOTREPLY (server). */
  op: 1 | 2;
  htype: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** Client hardware address, `hlen` bytes. */
  chaddr: Buffer;
  sname: string;
  file: string;
  options: DhcpOptions;
  /** Options the table does not know, by code, raw. */
  unknown: Map<number, Buffer>;
}

export type DhcpMessageInit = Partial<Omit<DhcpMessage, 'options' | 'unknown'>> & {
  op: 1 | 2;
  xid: number;
  chaddr: Buffer;
  options: DhcpOptions;
  unknown?: Map<number, Buffer>;
};

function textField(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end < 0 ? bytes.length : end).toString('utf8');
}

/** Fills in the zero defaults of a message. */
export function dhcpMessage(init: DhcpMessageInit): DhcpMessage {
  return {
    htype: 1,
    hops: 0,
    secs: 0,
    flags: 0,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    sname: '',
    file: '',
    unknown: new Map(),
    ...init,
  };
}

/** RFC 2131 §2 wire format; the message type goes first (RFC 2131 §4.1 does not require it, every server expects it). */
export function encodeDhcpMessage(message: DhcpMessage): Buffer {
  if (message.chaddr.length > 16) throw new LeaseError('DHCP_BAD_HEADER', `chaddr is ${message.chaddr.length} bytes, at most 16`);
  const head = Buffer.alloc(FIXED_BYTES + 4);
  head[0] = message.op;
  head[1] = message.htype;
  head[2] = message.chaddr.length;
  head[3] = message.hops;
  head.writeUInt32BE(message.xid >>> 0, 4);
  head.writeUInt16BE(message.secs & 0xffff, 8);
  head.writeUInt16BE(message.flags & 0xffff, 10);
  ipv4Bytes(message.ciaddr, 'DHCP_BAD_HEADER').copy(head, 12);
  ipv4Bytes(message.yiaddr, 'DHCP_BAD_HEADER').copy(head, 16);
  ipv4Bytes(message.siaddr, 'DHCP_BAD_HEADER').copy(head, 20);
  ipv4Bytes(message.giaddr, 'DHCP_BAD_HEADER').copy(head, 24);
  message.chaddr.copy(head, 28);
  const sname = Buffer.from(message.sname, 'utf8');
  const file = Buffer.from(message.file, 'utf8');
  if (sname.length > 63 || file.length > 127) throw new LeaseError('DHCP_BAD_HEADER', 'sname or file field too long');
  sname.copy(head, 44);
  file.copy(head, 108);
  head.writeUInt32BE(MAGIC_COOKIE, FIXED_BYTES);

  const names = Object.keys(message.options) as DhcpOptionName[];
  names.sort((a, b) => (a === 'messageType' ? -1 : b === 'messageType' ? 1 : 0));
  const parts: Buffer[] = [head];
  for (const name of names) {
    const value = message.options[name];
    if (value === undefined) continue;
    parts.push(encodeTlv(dhcpOptionTable[name].code, encodeOption(name, value as DhcpOptionValues[typeof name])));
  }
  for (const [code, value] of message.unknown) parts.push(encodeTlv(code, value));
  parts.push(Buffer.from([255]));
  const out = Buffer.concat(parts);
  return out.length >= MIN_SEND_BYTES ? out : Buffer.concat([out, Buffer.alloc(MIN_SEND_BYTES - out.length)]);
}

export interface DecodeOptions {
  /** Larger datagrams are refused with DHCP_OVERSIZED (default 1500). */
  maxBytes?: number;
}

/**
 * RFC 2131 §2 / RFC 2132 decoding. Everything wrong is a LeaseError with a code and the reason: short or long
 * datagrams, a bad cookie, an option running past the end, a wrong option length, a missing message type.
 */
export function decodeDhcpMessage(bytes: Buffer, options: DecodeOptions = {}): DhcpMessage {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DHCP_BYTES;
  if (bytes.length > maxBytes) throw new LeaseError('DHCP_OVERSIZED', `datagram of ${bytes.length} bytes is above the ${maxBytes}-byte limit`);
  if (bytes.length < FIXED_BYTES + 4) throw new LeaseError('DHCP_TRUNCATED', `datagram of ${bytes.length} bytes is shorter than the ${FIXED_BYTES + 4}-byte header`);
  const op = bytes[0]!;
  if (op !== 1 && op !== 2) throw new LeaseError('DHCP_BAD_HEADER', `op ${op} is neither BOOTREQUEST nor BOOTREPLY`);
  const hlen = bytes[2]!;
  if (hlen > 16) throw new LeaseError('DHCP_BAD_HEADER', `hlen ${hlen} is above 16`);
  if (bytes.readUInt32BE(FIXED_BYTES) !== MAGIC_COOKIE) throw new LeaseError('DHCP_BAD_COOKIE', 'no DHCP magic cookie (a BOOTP message?)');

  const raw = new Map<number, Buffer>();
  const { ended } = walkOptions(bytes.subarray(FIXED_BYTES + 4), raw, 'options');
  if (!ended) throw new LeaseError('DHCP_TRUNCATED', 'options end without the end option (255)');
  let snameBytes = bytes.subarray(44, 108);
  let fileBytes = bytes.subarray(108, 236);
  // RFC 2132 §9.3: option overload moves more options into the file (1), sname (2) or both (3) fields, file first.
  const overload = raw.get(52);
  if (overload !== undefined) {
    const value = decodeOption('overload', overload);
    if (value < 1 || value > 3) throw new LeaseError('DHCP_BAD_OPTION_VALUE', `option 52 (overload) must be 1, 2 or 3, got ${value}`);
    if (value & 1) {
      if (!walkOptions(fileBytes, raw, 'file field').ended) throw new LeaseError('DHCP_TRUNCATED', 'overloaded file field has no end option');
      fileBytes = Buffer.alloc(0);
    }
    if (value & 2) {
      if (!walkOptions(snameBytes, raw, 'sname field').ended) throw new LeaseError('DHCP_TRUNCATED', 'overloaded sname field has no end option');
      snameBytes = Buffer.alloc(0);
    }
  }

  const decoded: DhcpOptions = {};
  const unknown = new Map<number, Buffer>();
  for (const [code, data] of raw) {
    const name = optionName(code);
    if (name === undefined) unknown.set(code, data);
    else (decoded as Record<string, unknown>)[name] = decodeOption(name, data);
  }
  // RFC 2132 §8.4: our private options may come as option 43 sub-options (same numbers); a top-level one wins.
  if (decoded.vendorSpecific !== undefined) {
    const sub = new Map<number, Buffer>();
    walkOptions(decoded.vendorSpecific, sub, 'option 43');
    for (const name of vendorSubOptions) {
      const data = sub.get(dhcpOptionTable[name].code);
      if (data !== undefined && decoded[name] === undefined) (decoded as Record<string, unknown>)[name] = decodeOption(name, data);
    }
  }
  if (decoded.messageType === undefined) throw new LeaseError('DHCP_NO_MESSAGE_TYPE', 'no option 53: a BOOTP message, not DHCP');

  return {
    op,
    htype: bytes[1]!,
    hops: bytes[3]!,
    xid: bytes.readUInt32BE(4),
    secs: bytes.readUInt16BE(8),
    flags: bytes.readUInt16BE(10),
    ciaddr: readIpv4(bytes, 12),
    yiaddr: readIpv4(bytes, 16),
    siaddr: readIpv4(bytes, 20),
    giaddr: readIpv4(bytes, 24),
    chaddr: Buffer.from(bytes.subarray(28, 28 + hlen)),
    sname: textField(snameBytes),
    file: textField(fileBytes),
    options: decoded,
    unknown,
  };
}

/** Option 43 bytes carrying our private options as sub-options (what a server sends instead of 224-226). */
export function encodeVendorSubOptions(values: Pick<DhcpOptions, 'portRange' | 'mgc' | 'natAddress'>): Buffer {
  const parts: Buffer[] = [];
  for (const name of vendorSubOptions) {
    const value = values[name as 'portRange' | 'mgc' | 'natAddress'];
    if (value !== undefined) parts.push(encodeTlv(dhcpOptionTable[name].code, encodeOption(name, value as never)));
  }
  return Buffer.concat(parts);
}

/** `02:00:5e:10:00:01` → bytes; the form used in configs and logs. */
export function parseHardwareAddress(text: string): Buffer {
  const parts = text.split(/[:-]/);
  if (parts.length < 1 || parts.length > 16 || parts.some((p) => !/^[0-9a-f]{2}$/i.test(p))) throw new LeaseError('DHCP_BAD_HEADER', `not a hardware address: "${text}"`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export function formatHardwareAddress(bytes: Buffer): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}
