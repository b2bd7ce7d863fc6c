/** RTCP (RFC 3550 §6): the sender/receiver reports, SDES CNAME and BYE we send, and the reports we read. */

export interface ReportBlock {
  ssrc: number;
  fractionLost: number;
  cumulativeLost: number;
  extendedHighestSeq: number;
  jitter: number;
  lastSr: number;
  delaySinceLastSr: number;
}

export interface SenderInfo {
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
  packets: number;
  octets: number;
}

export interface RtcpReport {
  type: 'SR' | 'RR';
  ssrc: number;
  sender?: SenderInfo;
  blocks: ReportBlock[];
}

export interface ParsedRtcp {
  reports: RtcpReport[];
  bye: number[];
}

export class RtcpParseError extends Error {
  override readonly name = 'RtcpParseError';
}

const ntpEpochOffset = 2_208_988_800; // seconds from 1900 to 1970

/** Wall-clock time in NTP format (RFC 3550 §4). */
export function ntpTime(ms = Date.now()): { seconds: number; fraction: number } {
  const seconds = Math.floor(ms / 1000) + ntpEpochOffset;
  const fraction = Math.floor(((ms % 1000) / 1000) * 2 ** 32);
  return { seconds: seconds >>> 0, fraction: fraction >>> 0 };
}

function header(count: number, type: number, words: number): Buffer {
  const out = Buffer.alloc(4);
  out[0] = 0x80 | (count & 0x1f);
  out[1] = type;
  out.writeUInt16BE(words, 2);
  return out;
}

function block(b: ReportBlock): Buffer {
  const out = Buffer.alloc(24);
  out.writeUInt32BE(b.ssrc >>> 0, 0);
  out[4] = b.fractionLost & 0xff;
  const lost = Math.max(-0x800000, Math.min(0x7fffff, b.cumulativeLost)) & 0xffffff;
  out.writeUIntBE(lost, 5, 3);
  out.writeUInt32BE(b.extendedHighestSeq >>> 0, 8);
  out.writeUInt32BE(b.jitter >>> 0, 12);
  out.writeUInt32BE(b.lastSr >>> 0, 16);
  out.writeUInt32BE(b.delaySinceLastSr >>> 0, 20);
  return out;
}

/** SDES with a CNAME only (§6.5.1). The CNAME is random per session (RFC 7022 §4.1): it must not name the user. */
function sdes(ssrc: number, cname: string): Buffer {
  const text = Buffer.from(cname, 'utf8').subarray(0, 255);
  const chunkLength = 4 + 2 + text.length + 1; // ssrc, type+len, text, END
  const padded = Math.ceil(chunkLength / 4) * 4;
  const out = Buffer.alloc(4 + padded);
  header(1, 202, padded / 4).copy(out, 0);
  out.writeUInt32BE(ssrc >>> 0, 4);
  out[8] = 1;
  out[9] = text.length;
  text.copy(out, 10);
  return out;
}

/** A compound packet: SR (when we sent media) or RR, then SDES (§6.1). */
export function buildReport(options: { ssrc: number; cname: string; sender?: SenderInfo; blocks: ReportBlock[] }): Buffer {
  const blocks = options.blocks.slice(0, 31).map(block);
  let first: Buffer;
  if (options.sender) {
    const info = Buffer.alloc(24);
    info.writeUInt32BE(options.ssrc >>> 0, 0);
    info.writeUInt32BE(options.sender.ntpSeconds >>> 0, 4);
    info.writeUInt32BE(options.sender.ntpFraction >>> 0, 8);
    info.writeUInt32BE(options.sender.rtpTimestamp >>> 0, 12);
    info.writeUInt32BE(options.sender.packets >>> 0, 16);
    info.writeUInt32BE(options.sender.octets >>> 0, 20);
    first = Buffer.concat([header(blocks.length, 200, 6 + blocks.length * 6), info, ...blocks]);
  } else {
    const ssrc = Buffer.alloc(4);
    ssrc.writeUInt32BE(options.ssrc >>> 0, 0);
    first = Buffer.concat([header(blocks.length, 201, 1 + blocks.length * 6), ssrc, ...blocks]);
  }
  return Buffer.concat([first, sdes(options.ssrc, options.cname)]);
}

export function buildBye(ssrc: number, cname: string): Buffer {
  const bye = Buffer.alloc(8);
  header(1, 203, 1).copy(bye, 0);
  bye.writeUInt32BE(ssrc >>> 0, 4);
  return Buffer.concat([buildReport({ ssrc, cname, blocks: [] }), bye]);
}

/** Parse a compound RTCP packet; anything malformed throws RtcpParseError (the caller counts and drops it). */
export function parseRtcp(data: Uint8Array): ParsedRtcp {
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const result: ParsedRtcp = { reports: [], bye: [] };
  let offset = 0;
  if (buffer.length < 8) throw new RtcpParseError('truncated RTCP packet');
  while (offset < buffer.length) {
    if (offset + 4 > buffer.length) throw new RtcpParseError('truncated RTCP header');
    const b0 = buffer[offset]!;
    if (b0 >> 6 !== 2) throw new RtcpParseError('RTCP version is not 2');
    const count = b0 & 0x1f;
    const type = buffer[offset + 1]!;
    const length = (buffer.readUInt16BE(offset + 2) + 1) * 4;
    if (offset + length > buffer.length) throw new RtcpParseError('RTCP length runs past the packet');
    if (offset === 0 && type !== 200 && type !== 201) throw new RtcpParseError('a compound RTCP packet starts with SR or RR');
    const body = buffer.subarray(offset + 4, offset + length);
    if (type === 200 || type === 201) {
      const senderBytes = type === 200 ? 24 : 4;
      if (body.length < senderBytes + count * 24) throw new RtcpParseError('report shorter than its block count');
      const report: RtcpReport = { type: type === 200 ? 'SR' : 'RR', ssrc: body.readUInt32BE(0), blocks: [] };
      if (type === 200) {
        report.sender = {
          ntpSeconds: body.readUInt32BE(4),
          ntpFraction: body.readUInt32BE(8),
          rtpTimestamp: body.readUInt32BE(12),
          packets: body.readUInt32BE(16),
          octets: body.readUInt32BE(20),
        };
      }
      for (let i = 0; i < count; i++) {
        const at = senderBytes + i * 24;
        const rawLost = body.readUIntBE(at + 5, 3);
        report.blocks.push({
          ssrc: body.readUInt32BE(at),
          fractionLost: body[at + 4]!,
          cumulativeLost: rawLost & 0x800000 ? rawLost - 0x1000000 : rawLost,
          extendedHighestSeq: body.readUInt32BE(at + 8),
          jitter: body.readUInt32BE(at + 12),
          lastSr: body.readUInt32BE(at + 16),
          delaySinceLastSr: body.readUInt32BE(at + 20),
        });
      }
      result.reports.push(report);
    } else if (type === 203) {
      if (body.length < count * 4) throw new RtcpParseError('BYE shorter than its source count');
      for (let i = 0; i < count; i++) result.bye.push(body.readUInt32BE(i * 4));
    }
    offset += length;
  }
  return result;
}
