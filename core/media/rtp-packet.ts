/** An RTP packet (RFC 3550 §5.1): what we send and what survived validation on the way in. */
export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  payload: Uint8Array;
}

export type RtpRejectReason = 'TRUNCATED' | 'BAD_VERSION' | 'BAD_PADDING' | 'BAD_EXTENSION' | 'RTCP_ON_RTP_PORT';

export class RtpParseError extends Error {
  override readonly name = 'RtpParseError';
  constructor(readonly reason: RtpRejectReason) {
    super(`RTP packet rejected: ${reason}`);
  }
}

/** The packet's bytes (RFC 3550 §5.1), followed by `room` unwritten bytes (for SRTP's MKI and tag, filled in place). */
export function serializeRtp(packet: RtpPacket, room = 0): Buffer {
  const out = Buffer.allocUnsafe(12 + packet.payload.length + room);
  out[0] = 0x80; // V=2, no padding, no extension, no CSRC
  out[1] = (packet.marker ? 0x80 : 0) | (packet.payloadType & 0x7f);
  out.writeUInt16BE(packet.sequence & 0xffff, 2);
  out.writeUInt32BE(packet.timestamp >>> 0, 4);
  out.writeUInt32BE(packet.ssrc >>> 0, 8);
  out.set(packet.payload, 12);
  return out;
}

/** Parse and validate (RFC 3550 §A.1): version 2, header, CSRC list, extension and padding all inside the packet. */
export function parseRtp(data: Uint8Array): RtpPacket {
  if (data.length < 12) throw new RtpParseError('TRUNCATED');
  const b0 = data[0]!;
  if (b0 >> 6 !== 2) throw new RtpParseError('BAD_VERSION');
  const payloadType = data[1]! & 0x7f;
  // RTCP packet types 200-204 land in 72-76 with the marker bit set (RFC 5761 §4): not RTP.
  if (payloadType >= 72 && payloadType <= 76) throw new RtpParseError('RTCP_ON_RTP_PORT');
  let offset = 12 + (b0 & 0x0f) * 4;
  if (offset > data.length) throw new RtpParseError('TRUNCATED');
  if (b0 & 0x10) {
    if (offset + 4 > data.length) throw new RtpParseError('BAD_EXTENSION');
    const words = (data[offset + 2]! << 8) | data[offset + 3]!;
    offset += 4 + words * 4;
    if (offset > data.length) throw new RtpParseError('BAD_EXTENSION');
  }
  let end = data.length;
  if (b0 & 0x20) {
    const padding = data[data.length - 1]!;
    if (padding === 0 || end - padding < offset) throw new RtpParseError('BAD_PADDING');
    end -= padding;
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return {
    marker: (data[1]! & 0x80) !== 0,
    payloadType,
    sequence: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    payload: data.subarray(offset, end),
  };
}
