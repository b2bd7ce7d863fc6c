import { MediaClock } from '../../core/media/media-clock.js';

/** Resolves after `count` ticks of the media clock sessions send on (one 20 ms frame each): each a chance to send. */
export function mediaFrames(count: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const stop = MediaClock.shared.subscribe(() => {
      if (++seen < count) return;
      stop();
      resolve();
    });
  });
}
