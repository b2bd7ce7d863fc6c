import type { Session } from 'sip.js';
import { describe, expect, it } from 'vitest';
import { collectGarbage } from '../../test/support/collect-garbage.js';
import { MediaError } from './media-error.js';
import { createPlainRtpMediaProvider, type PlainRtpSessionDescriptionHandler } from './plain-rtp-sdh.js';

/** Issue 23 (memory under load): sip.js keeps an ended session's handler for up to 64·T1; its media must not stay with it. */
describe('the plain-RTP session description handler after its call', () => {
  const provide = createPlainRtpMediaProvider();
  const handler = () => provide({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', portRange: { min: 41000, max: 41098 } })({} as Session) as PlainRtpSessionDescriptionHandler;

  it('lets its media session go when closed, though the handler itself is still held', async () => {
    const sdh = handler();
    await sdh.getDescription();
    const media = new WeakRef(sdh.media!);
    expect(media.deref()).toBeDefined();
    sdh.close();
    expect(sdh.media).toBeUndefined();
    expect(sdh.closedStats?.localRtp).toMatch(/^127\.0\.0\.1:41\d\d\d$/); // its last figures stay
    // a WeakRef holds its target until the job that made it ends, and closing sockets hold it until they have closed
    for (let attempt = 0; attempt < 20 && media.deref() !== undefined; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      collectGarbage();
    }
    expect(media.deref()).toBeUndefined();
    expect(sdh).toBeDefined(); // still reachable here, as sip.js keeps it
  });

  it('refuses what comes after the close (a late answer, DTMF) with CLOSED, or not at all', async () => {
    const sdh = handler();
    await sdh.getDescription();
    sdh.close();
    await expect(sdh.setDescription('v=0\r\n')).rejects.toBeInstanceOf(MediaError);
    await expect(sdh.getDescription()).rejects.toThrow('the call has ended');
    expect(sdh.sendDtmf('1')).toBe(false);
  });
});
