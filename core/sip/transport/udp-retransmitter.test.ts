import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UdpRetransmitter } from './udp-retransmitter.js';

const peer = { address: '127.0.0.1', port: 5060 };

describe('UdpRetransmitter (RFC 3261 §17 timers over UDP)', () => {
  let sent: Array<{ at: number; raw: string }>;
  let rtx: UdpRetransmitter;

  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
    sent = [];
    rtx = new UdpRetransmitter((raw) => sent.push({ at: Date.now(), raw }), { t1: 500, t2: 4000 });
  });
  afterEach(() => {
    rtx.dispose();
    vi.useRealTimers();
  });

  it('Timer A: resends an INVITE at T1, 2·T1, 4·T1 … until any response, and gives up at 64·T1 (Timer B)', () => {
    rtx.requestSent('INVITE', 'z9hG4bK1', 'INVITE', peer);
    vi.advanceTimersByTime(64 * 500 + 10);
    expect(sent.map((s) => s.at)).toEqual([500, 1500, 3500, 7500, 15500, 31500]);
    expect(rtx.size).toBe(0);
  });

  it('stops Timer A at the first provisional response', () => {
    rtx.requestSent('INVITE', 'z9hG4bK1', 'INVITE', peer);
    vi.advanceTimersByTime(600);
    rtx.responseReceived('z9hG4bK1', 'INVITE', 100);
    vi.advanceTimersByTime(10_000);
    expect(sent).toHaveLength(1);
  });

  it('Timer E: a non-INVITE request doubles up to T2, then every T2 after a provisional, until a final', () => {
    rtx.requestSent('REGISTER', 'z9hG4bK2', 'REGISTER', peer);
    vi.advanceTimersByTime(11_600);
    expect(sent.map((s) => s.at)).toEqual([500, 1500, 3500, 7500, 11500]);
    rtx.responseReceived('z9hG4bK2', 'REGISTER', 100);
    vi.advanceTimersByTime(8000);
    expect(sent.map((s) => s.at).slice(5)).toEqual([15500, 19500]);
    rtx.responseReceived('z9hG4bK2', 'REGISTER', 200);
    vi.advanceTimersByTime(20_000);
    expect(sent).toHaveLength(7);
  });

  it('Timer G: a non-2xx final response to an INVITE is resent until the ACK; a 2xx is left to the dialog', () => {
    rtx.responseSent('z9hG4bK3', 'INVITE', 200, '200', peer);
    rtx.responseSent('z9hG4bK3', 'INVITE', 486, '486', peer);
    vi.advanceTimersByTime(1600);
    expect(sent.map((s) => s.raw)).toEqual(['486', '486']);
    rtx.requestReceived('ACK', 'z9hG4bK3');
    vi.advanceTimersByTime(10_000);
    expect(sent).toHaveLength(2);
  });

  it('never retransmits an ACK, and ignores responses to unknown branches', () => {
    rtx.requestSent('ACK', 'z9hG4bK4', 'ACK', peer);
    rtx.responseReceived('z9hG4bK-unknown', 'INVITE', 200);
    vi.advanceTimersByTime(10_000);
    expect(sent).toEqual([]);
  });

  it('Timer D: a repeated non-2xx final gets the same ACK again and does not reach the transaction layer', () => {
    rtx.requestSent('INVITE', 'z9hG4bK5', 'INVITE', peer);
    expect(rtx.responseReceived('z9hG4bK5', 'INVITE', 486)).toBe(true);
    rtx.requestSent('ACK', 'z9hG4bK5', 'ACK-486', peer);
    expect(rtx.responseReceived('z9hG4bK5', 'INVITE', 486)).toBe(false);
    expect(sent.map((s) => s.raw)).toEqual(['ACK-486']);
    vi.advanceTimersByTime(64 * 500 + 1);
    expect(rtx.responseReceived('z9hG4bK5', 'INVITE', 486)).toBe(true); // after Timer D it is news again
  });

  it('an ACK for a 2xx (new branch) is not kept', () => {
    rtx.requestSent('INVITE', 'z9hG4bK6', 'INVITE', peer);
    rtx.responseReceived('z9hG4bK6', 'INVITE', 200);
    rtx.requestSent('ACK', 'z9hG4bK7', 'ACK-200', peer);
    expect(rtx.responseReceived('z9hG4bK6', 'INVITE', 200)).toBe(true);
    expect(sent).toEqual([]);
  });

  it('Timer J: a repeated BYE gets our 200 again instead of reaching a dialog that is gone', () => {
    expect(rtx.requestReceived('BYE', 'z9hG4bK8')).toBe(true);
    rtx.responseSent('z9hG4bK8', 'BYE', 200, '200-BYE', peer);
    expect(rtx.requestReceived('BYE', 'z9hG4bK8')).toBe(false);
    expect(sent.map((s) => s.raw)).toEqual(['200-BYE']);
    expect(rtx.requestReceived('BYE', 'z9hG4bK-other')).toBe(true);
    vi.advanceTimersByTime(64 * 500 + 1);
    expect(rtx.requestReceived('BYE', 'z9hG4bK8')).toBe(true);
  });

  it('holds nothing for failure responses to INVITEs it never sent (forged, each with its own branch)', () => {
    for (let i = 0; i < 2000; i++) expect(rtx.responseReceived(`z9hG4bK-forged${i}`, 'INVITE', 486)).toBe(true);
    expect(rtx.held).toBe(0);
    // and an ACK on such a branch is not kept to answer that failure again
    rtx.requestSent('ACK', 'z9hG4bK-forged1', 'ACK', peer);
    expect(rtx.responseReceived('z9hG4bK-forged1', 'INVITE', 486)).toBe(true);
    expect(sent).toEqual([]);
    // an INVITE of ours answered 200 lets go of its branch at once
    rtx.requestSent('INVITE', 'z9hG4bK9', 'INVITE', peer);
    rtx.responseReceived('z9hG4bK9', 'INVITE', 200);
    expect(rtx.held).toBe(0);
  });

  it('Timer G holds at most 1024 rejected INVITEs\' answers at once, letting the oldest go first', () => {
    for (let i = 0; i < 3000; i++) rtx.responseSent(`z9hG4bK-flood${i}`, 'INVITE', 486, `486-${i}`, peer);
    expect(rtx.size).toBe(1024);
    vi.advanceTimersByTime(500);
    expect(new Set(sent.map((s) => s.raw))).toEqual(new Set(Array.from({ length: 1024 }, (_, i) => `486-${i + 1976}`)));
  });

  it('Timer J keeps at most 8 MiB of answers: a flood of requests with long Via lists (copied into each answer) holds no more, the oldest going first', () => {
    const vias = 'v'.repeat(62_000);
    const big = (i: number): string => `481-${String(i).padStart(4, '0')} ${vias}`; // a stranger's CANCEL with 200 long Vias, answered
    for (let i = 0; i < 1500; i++) rtx.responseSent(`z9hG4bK-big${i}`, 'CANCEL', 481, big(i), peer);
    const kept = Math.floor((8 * 1024 * 1024) / big(0).length);
    expect(rtx.held).toBe(kept);
    expect(rtx.requestReceived('CANCEL', 'z9hG4bK-big0')).toBe(true); // let go: the stack answers it itself
    expect(rtx.requestReceived('CANCEL', `z9hG4bK-big${1500 - kept}`)).toBe(false); // the newest are still answered
    expect(rtx.requestReceived('CANCEL', 'z9hG4bK-big1499')).toBe(false);
    // the ACKs kept for our own INVITEs' failures are counted apart: answers at their limit push none of them out
    rtx.requestSent('INVITE', 'z9hG4bK-ours', 'INVITE', peer);
    rtx.responseReceived('z9hG4bK-ours', 'INVITE', 486);
    const ack = `ACK-486 ${'r'.repeat(30_000)}`; // one long enough to take the answers over the limit, were it shared
    rtx.requestSent('ACK', 'z9hG4bK-ours', ack, peer);
    rtx.responseSent('z9hG4bK-big1500', 'CANCEL', 481, big(1500), peer);
    expect(rtx.responseReceived('z9hG4bK-ours', 'INVITE', 486)).toBe(false); // the 486 again: our ACK again, absorbed
    expect(sent.at(-1)?.raw).toBe(ack);
    // small answers, as many as a load of 300 calls/s leaves for 64·T1, all stay
    rtx.dispose();
    for (let i = 0; i < 19_200; i++) rtx.responseSent(`z9hG4bK-bye${i}`, 'BYE', 200, `200-${i} ${'h'.repeat(400)}`, peer);
    expect(rtx.held).toBe(19_200);
  });
});
