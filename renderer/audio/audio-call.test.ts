import { describe, expect, it } from 'vitest';
import type { CallSnapshot } from '../../core/api/phone-types.js';
import { audioCall, playbackCall } from './audio-call.js';

describe('which call the audio devices carry', () => {
  const call = (id: string, state: CallSnapshot['state'], extra: Partial<CallSnapshot> = {}): CallSnapshot => ({ id, state, localHold: false, ...extra }) as CallSnapshot;

  it('plays early media before the answer, but keys stay dial keys until the call is up', () => {
    const ringing = call('r', 'ringing');
    const early = call('e', 'ringing', { earlyMedia: true });
    expect(playbackCall({ r: ringing })).toBeUndefined();
    expect(playbackCall({ r: ringing, e: early })?.id).toBe('e');
    expect(audioCall({ e: early })).toBeUndefined();
    expect(playbackCall({ e: early, a: call('a', 'established') })?.id).toBe('a');
  });
});
