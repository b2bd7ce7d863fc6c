import { MediaError } from './media-error.js';

/** RFC 4733 §3.2 event codes for the DTMF digits. */
const eventCodes: Record<string, number> = { '0': 0, '1': 1, '2': 2, '3': 3, '4': 4, '5': 5, '6': 6, '7': 7, '8': 8, '9': 9, '*': 10, '#': 11, A: 12, B: 13, C: 14, D: 15 };
const digitsByCode = Object.fromEntries(Object.entries(eventCodes).map(([digit, code]) => [code, digit])) as Record<number, string>;

export interface TelephoneEvent {
  event: number;
  end: boolean;
  volume: number;
  /** In timestamp units (8 kHz). */
  duration: number;
}

export function digitToEvent(digit: string): number {
  const code = eventCodes[digit.toUpperCase()];
  if (code === undefined) throw new MediaError('BAD_DTMF', `"${digit}" is not a DTMF digit (0-9, *, #, A-D)`);
  return code;
}

export function eventToDigit(event: number): string | undefined {
  return digitsByCode[event];
}

/** RFC 4733 §2.3 payload: event, E bit, volume, duration. */
export function encodeTelephoneEvent(e: TelephoneEvent): Uint8Array {
  const out = new Uint8Array(4);
  out[0] = e.event & 0xff;
  out[1] = (e.end ? 0x80 : 0) | (e.volume & 0x3f);
  out[2] = (e.duration >> 8) & 0xff;
  out[3] = e.duration & 0xff;
  return out;
}

export function decodeTelephoneEvent(payload: Uint8Array): TelephoneEvent | undefined {
  if (payload.length < 4) return undefined;
  return { event: payload[0]!, end: (payload[1]! & 0x80) !== 0, volume: payload[1]! & 0x3f, duration: (payload[2]! << 8) | payload[3]! };
}

/** One RTP packet's worth of a digit being sent. */
export interface DtmfPacket {
  payload: Uint8Array;
  marker: boolean;
  /** The event's timestamp (its start); the same for every packet of one event (§2.5.1.2). */
  timestamp: number;
  /** True for the packets after the first that only repeat the end (§2.5.1.4): they advance no sequence gap logic. */
  endRepeat: boolean;
}

/**
 * Turns digits into RFC 4733 packets, one per 20 ms tick: a digit is `toneMs` long, its first packet has the marker
 * bit, the duration grows by 160 per packet, and the final packet (E bit) is sent three times (§2.5.1.4); then
 * `gapMs` of audio before the next digit.
 */
export class DtmfSender {
  private queue: string[] = [];
  private current: { event: number; start: number; elapsed: number; endsSent: number } | undefined;
  private gapLeft = 0;

  constructor(
    private readonly toneMs = 100,
    private readonly gapMs = 60,
  ) {}

  enqueue(digits: string): void {
    for (const digit of digits) digitToEvent(digit); // validate all first: nothing is queued on a bad string
    this.queue.push(...digits.toUpperCase());
  }

  get busy(): boolean {
    return this.current !== undefined || this.queue.length > 0;
  }

  /** Called every 20 ms with the RTP timestamp of this tick; a packet to send instead of audio, or undefined. */
  tick(timestamp: number): DtmfPacket | undefined {
    if (!this.current) {
      if (this.gapLeft > 0) {
        this.gapLeft -= 20;
        return undefined;
      }
      const digit = this.queue.shift();
      if (digit === undefined) return undefined;
      this.current = { event: digitToEvent(digit), start: timestamp, elapsed: 0, endsSent: 0 };
    }
    const c = this.current;
    const toneUnits = this.toneMs * 8;
    if (c.elapsed < toneUnits) {
      c.elapsed += 160;
      const end = c.elapsed >= toneUnits;
      if (end) c.endsSent = 1;
      const packet = { payload: encodeTelephoneEvent({ event: c.event, end, volume: 10, duration: Math.min(c.elapsed, 0xffff) }), marker: c.elapsed === 160, timestamp: c.start, endRepeat: false };
      if (end && c.endsSent >= 3) this.finish();
      return packet;
    }
    c.endsSent++;
    const packet = { payload: encodeTelephoneEvent({ event: c.event, end: true, volume: 10, duration: Math.min(c.elapsed, 0xffff) }), marker: false, timestamp: c.start, endRepeat: true };
    if (c.endsSent >= 3) this.finish();
    return packet;
  }

  private finish(): void {
    this.current = undefined;
    this.gapLeft = this.gapMs;
  }
}

/** A digit as received: reported once, at its end (or when the next event starts without an end). */
export interface ReceivedDigit {
  digit: string;
  durationMs: number;
}

/** Reassembles RFC 4733 packets into digits, ignoring the repeated end packets and retransmissions (§2.5.2). */
export class DtmfReceiver {
  private current: { timestamp: number; event: number; duration: number; reported: boolean } | undefined;
  private readonly recentlyEnded: number[] = [];

  constructor(private readonly onDigit: (digit: ReceivedDigit) => void) {}

  receive(timestamp: number, payload: Uint8Array): void {
    const e = decodeTelephoneEvent(payload);
    if (!e) return;
    if (this.recentlyEnded.includes(timestamp)) return; // repeats of an end we already reported
    if (!this.current || this.current.timestamp !== timestamp) {
      if (this.current && !this.current.reported) this.report(this.current);
      this.current = { timestamp, event: e.event, duration: e.duration, reported: false };
    }
    this.current.duration = Math.max(this.current.duration, e.duration);
    if (e.end) {
      this.report(this.current);
      this.recentlyEnded.push(timestamp);
      if (this.recentlyEnded.length > 8) this.recentlyEnded.shift();
      this.current = undefined;
    }
  }

  private report(event: { event: number; duration: number; reported: boolean }): void {
    event.reported = true;
    const digit = eventToDigit(event.event);
    if (digit !== undefined) this.onDigit({ digit, durationMs: Math.round(event.duration / 8) });
  }
}
