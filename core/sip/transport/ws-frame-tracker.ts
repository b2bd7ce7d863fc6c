/**
 * Follows the frame boundaries of what a WebSocket client sends (RFC 6455 §5.2), byte by byte beside the ws
 * library, only to tell a listener whether a message is half received and how many have arrived whole: ws keeps
 * that to itself, and a client that stops in the middle of a frame must be timed out like one that stops in the
 * middle of a SIP message over TCP. Validation stays with ws; this never rejects anything.
 */
export class WsFrameTracker {
  /** Data messages received whole (a text or binary frame with FIN, or the FIN continuation ending one). */
  messages = 0;
  private header: number[] = [];
  private headerSize = 2;
  private payloadLeft = 0;
  /** A data frame without FIN was seen (RFC 6455 §5.4): the message goes on in continuation frames. */
  private fragmented = false;
  private frameIsData = false;
  private frameHasFin = false;

  /** A message has begun and not ended: a partial frame header or payload, or an unfinished fragmented message. */
  get midMessage(): boolean {
    return this.header.length > 0 || this.payloadLeft > 0 || this.fragmented;
  }

  push(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.payloadLeft > 0) {
        const take = Math.min(this.payloadLeft, chunk.length - offset);
        this.payloadLeft -= take;
        offset += take;
        if (this.payloadLeft === 0) this.endFrame();
        continue;
      }
      this.header.push(chunk[offset++]!);
      if (this.header.length === 2) {
        const length7 = this.header[1]! & 0x7f;
        this.headerSize = 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (this.header[1]! & 0x80 ? 4 : 0);
      }
      if (this.header.length >= 2 && this.header.length === this.headerSize) this.startFrame();
    }
  }

  private startFrame(): void {
    const [first, second] = this.header as [number, number];
    const opcode = first & 0x0f;
    this.frameIsData = opcode < 0x8; // 0 continuation, 1 text, 2 binary; 0x8 and above are control frames (§5.5)
    this.frameHasFin = (first & 0x80) !== 0;
    const length7 = second & 0x7f;
    let length = length7;
    if (length7 === 126) length = (this.header[2]! << 8) | this.header[3]!;
    else if (length7 === 127) length = this.header.slice(2, 10).reduce((value, byte) => value * 256 + byte, 0);
    this.header = [];
    this.headerSize = 2;
    this.payloadLeft = length;
    if (length === 0) this.endFrame();
  }

  private endFrame(): void {
    if (!this.frameIsData) return;
    if (this.frameHasFin) {
      this.fragmented = false;
      this.messages++;
    } else this.fragmented = true;
  }
}
