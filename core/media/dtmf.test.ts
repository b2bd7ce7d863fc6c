import { describe, expect, it } from 'vitest';
import { decodeTelephoneEvent, DtmfReceiver, DtmfSender, type ReceivedDigit } from './dtmf.js';
import { MediaError } from './media-error.js';

describe('RFC 4733 DTMF', () => {
  it('sends a 100 ms digit as 5 growing packets with the marker first, then the end packet three times, then a gap', () => {
    const sender = new DtmfSender(100, 60);
    sender.enqueue('5');
    const packets = [];
    for (let tick = 0; tick < 12; tick++) packets.push(sender.tick(1000 + tick * 160));
    const sent = packets.filter((p) => p !== undefined);
    expect(sent).toHaveLength(7);
    expect(sent.map((p) => p.marker)).toEqual([true, false, false, false, false, false, false]);
    expect(sent.every((p) => p.timestamp === 1000)).toBe(true);
    const events = sent.map((p) => decodeTelephoneEvent(p.payload)!);
    expect(events.map((e) => e.duration)).toEqual([160, 320, 480, 640, 800, 800, 800]);
    expect(events.map((e) => e.end)).toEqual([false, false, false, false, true, true, true]);
    expect(events.every((e) => e.event === 5 && e.volume === 10)).toBe(true);
    expect(sender.busy).toBe(false);
  });

  it('refuses a string with a non-digit and queues nothing', () => {
    const sender = new DtmfSender();
    expect(() => sender.enqueue('12x')).toThrow(MediaError);
    expect(sender.busy).toBe(false);
  });

  it('receives each digit once, whatever the end-packet repeats and retransmissions', () => {
    const digits: ReceivedDigit[] = [];
    const receiver = new DtmfReceiver((d) => digits.push(d));
    const sender = new DtmfSender(80, 40);
    sender.enqueue('159#');
    for (let tick = 0; tick < 60; tick++) {
      const p = sender.tick(tick * 160);
      if (p) {
        receiver.receive(p.timestamp, p.payload);
        receiver.receive(p.timestamp, p.payload); // a network duplicate
      }
    }
    expect(digits.map((d) => d.digit).join('')).toBe('159#');
    expect(digits.every((d) => d.durationMs === 80)).toBe(true);
  });

  it('reports a digit whose end packets were all lost when the next one starts', () => {
    const digits: string[] = [];
    const receiver = new DtmfReceiver((d) => digits.push(d.digit));
    receiver.receive(100, Uint8Array.from([1, 10, 0, 160]));
    receiver.receive(900, Uint8Array.from([2, 10, 0, 160]));
    receiver.receive(900, Uint8Array.from([2, 0x80 | 10, 1, 64]));
    expect(digits).toEqual(['1', '2']);
  });
});
