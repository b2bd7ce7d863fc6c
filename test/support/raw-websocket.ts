import { randomBytes } from 'node:crypto';
import net from 'node:net';

/** One frame a server sent (RFC 6455 §5.2; server frames are not masked). */
export interface ServerFrame {
  opcode: number;
  payload: Buffer;
}

/**
 * A WebSocket client written at the byte level, so a test can send what a library would refuse to: invalid UTF-8
 * in a text frame, a frame announcing more than the server's size limit, a frame cut in half.
 */
export interface RawWebSocket {
  socket: net.Socket;
  /** The HTTP status line of the handshake answer. */
  status: string;
  frames: ServerFrame[];
  /** The status code of the server's close frame, once one arrived (RFC 6455 §5.5.1). */
  closeCode(): number | undefined;
  /** Resolves when the TCP connection is gone. */
  closed: Promise<void>;
  write(bytes: Buffer): void;
}

export interface RawWebSocketOptions {
  port: number;
  path?: string;
  host?: string;
  localAddress?: string;
  origin?: string;
  protocol?: string;
  /** Answer the server's close frame and end (RFC 6455 §5.5.1); false leaves that to the test. Default true. */
  answerClose?: boolean;
}

/** Open a TCP connection and complete a WebSocket handshake by hand; resolves once the answer's head arrived. */
export function rawWebSocket(options: RawWebSocketOptions): Promise<RawWebSocket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port: options.port, host: options.host ?? '127.0.0.1', ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
    const frames: ServerFrame[] = [];
    let buffer = Buffer.alloc(0);
    let status: string | undefined;
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('error', (error) => {
      if (status === undefined) reject(error);
    });
    socket.once('close', () => {
      if (status === undefined) reject(new Error('closed before the handshake answer'));
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (status === undefined) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        status = buffer.subarray(0, buffer.indexOf('\r\n')).toString('latin1');
        buffer = buffer.subarray(end + 4);
        resolve({
          socket,
          status,
          frames,
          closed,
          closeCode: () => {
            const close = frames.find((f) => f.opcode === 0x8);
            return close && close.payload.length >= 2 ? close.payload.readUInt16BE(0) : undefined;
          },
          write: (bytes) => void socket.write(bytes),
        });
      }
      for (;;) {
        const frame = readFrame(buffer);
        if (!frame) return;
        frames.push(frame.frame);
        buffer = buffer.subarray(frame.used);
        // RFC 6455 §5.5.1: answer a close frame, then the server closes the TCP connection.
        if (frame.frame.opcode === 0x8 && options.answerClose !== false) socket.end(clientFrame(0x8, frame.frame.payload.subarray(0, 2)));
      }
    });
    socket.once('connect', () => {
      const head = [
        `GET ${options.path ?? '/'} HTTP/1.1`,
        `Host: 127.0.0.1:${options.port}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
        'Sec-WebSocket-Version: 13',
        ...(options.origin ? [`Origin: ${options.origin}`] : []),
        ...(options.protocol ? [`Sec-WebSocket-Protocol: ${options.protocol}`] : []),
        '',
        '',
      ];
      socket.write(head.join('\r\n'));
    });
  });
}

/**
 * A client frame (masked, RFC 6455 §5.3). `declaredLength` announces another payload length than the bytes given
 * (a frame header claiming a megabyte, followed by nothing).
 */
export function clientFrame(opcode: number, payload: Buffer, options: { fin?: boolean; declaredLength?: number } = {}): Buffer {
  const length = options.declaredLength ?? payload.length;
  const first = (options.fin === false ? 0 : 0x80) | opcode;
  let header: Buffer;
  if (length < 126) header = Buffer.from([first, 0x80 | length]);
  else if (length < 65_536) {
    header = Buffer.alloc(4);
    header[0] = first;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([header, mask, masked]);
}

function readFrame(buffer: Buffer): { frame: ServerFrame; used: number } | undefined {
  if (buffer.length < 2) return undefined;
  let length = buffer[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buffer.length < 4) return undefined;
    length = buffer.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buffer.length < 10) return undefined;
    length = Number(buffer.readBigUInt64BE(2));
    offset = 10;
  }
  if (buffer.length < offset + length) return undefined;
  return { frame: { opcode: buffer[0]! & 0x0f, payload: Buffer.from(buffer.subarray(offset, offset + length)) }, used: offset + length };
}
