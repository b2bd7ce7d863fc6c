import { afterEach, describe, expect, it } from 'vitest';
import { MediaTimeout, mediaTimeoutOf } from './media-timeout.js';

describe('MediaTimeout', () => {
  let clock = 0;
  const watches: MediaTimeout[] = [];
  afterEach(() => {
    for (const watch of watches.splice(0)) watch.stop();
  });
  function setUp(limits = { seconds: 30, heldSeconds: 3600 }) {
    clock = 0;
    const watch = new MediaTimeout(() => clock);
    watches.push(watch);
    const media = { lifeSigns: 0, duplex: true };
    const call = { answered: true, ended: [] as number[] };
    const current = { media: media as { lifeSigns: number; duplex: boolean } | undefined };
    watch.watch('c1', () => current.media, limits, () => call.answered, (seconds) => call.ended.push(seconds));
    const at = (ms: number): void => {
      clock = ms;
      watch.check();
    };
    return { watch, media, current, call, at };
  }

  it('ends the call once, after the limit without a sign of life', () => {
    const { media, call, at } = setUp();
    at(10_000);
    media.lifeSigns++;
    at(20_000); // heard at 20 s
    at(49_999);
    expect(call.ended).toEqual([]);
    at(50_000);
    expect(call.ended).toEqual([30]);
    at(90_000);
    expect(call.ended).toEqual([30]);
  });

  it('gives a held call the held limit, and a new window on every hold change', () => {
    const { media, call, at } = setUp({ seconds: 30, heldSeconds: 100 });
    at(20_000);
    media.duplex = false; // put on hold at 25 s
    at(25_000);
    at(120_000);
    expect(call.ended).toEqual([]);
    media.duplex = true; // resumed at 124 s: 30 s from there
    at(124_000);
    at(153_000);
    expect(call.ended).toEqual([]);
    at(154_000);
    expect(call.ended).toEqual([30]);
  });

  it('starts afresh on new media (a 3xx followed), and waits while there is none', () => {
    const { current, call, at } = setUp();
    current.media = undefined;
    at(40_000);
    expect(call.ended).toEqual([]);
    current.media = { lifeSigns: 0, duplex: true }; // the signs of new media start again at 0, as the old ones did
    at(45_000);
    at(74_999);
    expect(call.ended).toEqual([]);
    at(75_000);
    expect(call.ended).toEqual([30]);
  });

  it('counts nothing before the answer, and 0 turns a limit off', () => {
    const { media, call, at } = setUp({ seconds: 0, heldSeconds: 10 });
    call.answered = false;
    media.duplex = false;
    at(60_000); // ringing: no end, and the window starts at the answer
    call.answered = true;
    at(65_000);
    expect(call.ended).toEqual([]);
    at(70_000);
    expect(call.ended).toEqual([10]);
    const off = setUp({ seconds: 0, heldSeconds: 5 });
    off.at(1_000_000);
    expect(off.call.ended).toEqual([]);
  });

  it('takes the account\'s limits, Linphone\'s by default', () => {
    const account = { id: 'a', user: 'a', server: 'sip:127.0.0.1', transport: 'udp' as const };
    expect(mediaTimeoutOf(account)).toEqual({ seconds: 30, heldSeconds: 3600 });
    expect(mediaTimeoutOf({ ...account, mediaTimeout: { heldSeconds: 0 } })).toEqual({ seconds: 30, heldSeconds: 0 });
  });
});
