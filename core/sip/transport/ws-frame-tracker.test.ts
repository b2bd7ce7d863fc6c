import { describe, expect, it } from 'vitest';
import { clientFrame } from '../../../test/support/raw-websocket.js';
import { WsFrameTracker } from './ws-frame-tracker.js';

/** Feed `bytes` one at a time; the state after each byte. */
function byteByByte(tracker: WsFrameTracker, bytes: Buffer): Array<{ messages: number; mid: boolean }> {
  return [...bytes].map((byte) => {
    tracker.push(Uint8Array.of(byte));
    return { messages: tracker.messages, mid: tracker.midMessage };
  });
}

describe('WsFrameTracker (RFC 6455 §5.2 frame boundaries of a client stream)', () => {
  it('sees a message end only at the last byte of its frame, whatever the length encoding', () => {
    for (const size of [0, 5, 125, 126, 300, 65_535, 65_536, 70_000]) {
      const tracker = new WsFrameTracker();
      const frame = clientFrame(0x1, Buffer.alloc(size, 0x61));
      const states = byteByByte(tracker, frame);
      expect(states.slice(0, -1).every((s) => s.mid && s.messages === 0), `size ${size}`).toBe(true);
      expect(states.at(-1)).toEqual({ messages: 1, mid: false });
    }
  });

  it('keeps a fragmented message open across its frames and control frames between them (§5.4)', () => {
    const tracker = new WsFrameTracker();
    tracker.push(clientFrame(0x1, Buffer.from('REGISTER sip:'), { fin: false }));
    expect(tracker).toMatchObject({ messages: 0, midMessage: true });
    tracker.push(clientFrame(0x9, Buffer.from('ping'))); // a ping in the middle, whole
    expect(tracker).toMatchObject({ messages: 0, midMessage: true });
    tracker.push(clientFrame(0x0, Buffer.from('lab SIP/2.0'), { fin: false }));
    tracker.push(clientFrame(0x0, Buffer.from('\r\n\r\n')));
    expect(tracker).toMatchObject({ messages: 1, midMessage: false });
  });

  it('counts several messages in one chunk and a control frame alone as no message', () => {
    const tracker = new WsFrameTracker();
    tracker.push(Buffer.concat([clientFrame(0x2, Buffer.alloc(10)), clientFrame(0x1, Buffer.from('x')), clientFrame(0xa, Buffer.alloc(0))]));
    expect(tracker).toMatchObject({ messages: 2, midMessage: false });
    const half = clientFrame(0x1, Buffer.from('half of it'));
    tracker.push(half.subarray(0, 8));
    expect(tracker).toMatchObject({ messages: 2, midMessage: true });
    tracker.push(half.subarray(8));
    expect(tracker).toMatchObject({ messages: 3, midMessage: false });
  });
});
