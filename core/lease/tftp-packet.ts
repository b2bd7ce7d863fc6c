import { LeaseError } from './lease-error.js';

/** RFC 1350 §5 opcodes, plus OACK (RFC 2347). */
export type TftpPacket =
  | { op: 'RRQ' | 'WRQ'; file: string; mode: string; options: Record<string, string> }
  | { op: 'DATA'; block: number; data: Buffer }
  | { op: 'ACK'; block: number }
  | { op: 'ERROR'; code: number; message: string }
  | { op: 'OACK'; options: Record<string, string> };

const opcodes = { RRQ: 1, WRQ: 2, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 } as const;

/** RFC 1350 Appendix error codes, plus 8 (RFC 2347 option negotiation refused). */
export const TftpErrorCodes = {
  NOT_DEFINED: 0,
  FILE_NOT_FOUND: 1,
  ACCESS_VIOLATION: 2,
  DISK_FULL: 3,
  ILLEGAL_OPERATION: 4,
  UNKNOWN_TID: 5,
  FILE_EXISTS: 6,
  NO_SUCH_USER: 7,
  OPTION_REFUSED: 8,
} as const;

/** The largest DATA payload RFC 2348 allows (blksize 65464). */
export const MAX_BLKSIZE = 65464;

export function encodeTftp(packet: TftpPacket): Buffer {
  const op = Buffer.alloc(2);
  op.writeUInt16BE(opcodes[packet.op]);
  const z = (text: string): Buffer => Buffer.concat([Buffer.from(text, 'utf8'), Buffer.from([0])]);
  const opts = (options: Record<string, string>): Buffer[] => Object.entries(options).flatMap(([k, v]) => [z(k), z(v)]);
  switch (packet.op) {
    case 'RRQ':
    case 'WRQ':
      return Buffer.concat([op, z(packet.file), z(packet.mode), ...opts(packet.options)]);
    case 'DATA': {
      const head = Buffer.alloc(2);
      head.writeUInt16BE(packet.block & 0xffff);
      return Buffer.concat([op, head, packet.data]);
    }
    case 'ACK': {
      const head = Buffer.alloc(2);
      head.writeUInt16BE(packet.block & 0xffff);
      return Buffer.concat([op, head]);
    }
    case 'ERROR': {
      const head = Buffer.alloc(2);
      head.writeUInt16BE(packet.code);
      return Buffer.concat([op, head, z(packet.message)]);
    }
    case 'OACK':
      return Buffer.concat([op, ...opts(packet.options)]);
  }
}

/** Reads a TFTP packet; anything malformed is a LeaseError TFTP_BAD_PACKET with the reason. */
export function decodeTftp(bytes: Buffer): TftpPacket {
  const bad = (why: string): never => {
    throw new LeaseError('TFTP_BAD_PACKET', why);
  };
  if (bytes.length < 4 && !(bytes.length >= 2 && bytes.readUInt16BE(0) === opcodes.OACK)) bad(`packet of ${bytes.length} bytes is too short`);
  const op = bytes.readUInt16BE(0);
  const strings = (from: number): string[] => {
    const out: string[] = [];
    let start = from;
    while (start < bytes.length) {
      const end = bytes.indexOf(0, start);
      if (end < 0) bad('string not terminated by a zero byte');
      out.push(bytes.subarray(start, end).toString('utf8'));
      start = end + 1;
    }
    return out;
  };
  const options = (list: string[]): Record<string, string> => {
    if (list.length % 2 !== 0) bad('option without a value');
    const out: Record<string, string> = {};
    for (let i = 0; i < list.length; i += 2) out[list[i]!.toLowerCase()] = list[i + 1]!;
    return out;
  };
  switch (op) {
    case opcodes.RRQ:
    case opcodes.WRQ: {
      const [file, mode, ...rest] = strings(2);
      if (!file || !mode) bad('request without file name or mode');
      return { op: op === opcodes.RRQ ? 'RRQ' : 'WRQ', file: file!, mode: mode!.toLowerCase(), options: options(rest) };
    }
    case opcodes.DATA:
      if (bytes.length - 4 > MAX_BLKSIZE) bad(`DATA of ${bytes.length - 4} bytes is above the largest block size`);
      return { op: 'DATA', block: bytes.readUInt16BE(2), data: Buffer.from(bytes.subarray(4)) };
    case opcodes.ACK:
      if (bytes.length !== 4) bad(`ACK of ${bytes.length} bytes, expected 4`);
      return { op: 'ACK', block: bytes.readUInt16BE(2) };
    case opcodes.ERROR: {
      // RFC 1350 §5: the message is zero-terminated; some servers omit the zero, which we accept
      const rest = bytes.subarray(4);
      const end = rest.indexOf(0);
      return { op: 'ERROR', code: bytes.readUInt16BE(2), message: rest.subarray(0, end < 0 ? rest.length : end).toString('utf8') };
    }
    case opcodes.OACK:
      return { op: 'OACK', options: options(strings(2)) };
    default:
      return bad(`unknown opcode ${op}`);
  }
}
