import { useEffect, useRef } from 'react';
import { useAudio } from '../store/audio-store.js';
import { usePhone } from '../store/phone-store.js';
import { callTone } from './call-tones.js';
import { TonePlayer, type TonePlayerProbe } from './tone-player.js';

declare global {
  interface Window {
    /** The tone players, for diagnostics and the end-to-end tests: the ringer and the in-call tones. */
    veilphoneTones?: { ringer: TonePlayerProbe; call: TonePlayerProbe };
  }
}

/** Volume of the ringback and the call-waiting beep (they sound with the call, on its device). */
const callToneVolume = 0.7;

/**
 * The phone's own tones, from the calls' states: the ringtone on the ringer device at the ringer volume; the ringback
 * and the call-waiting beep on the speaker, where the call is heard. A first click or key press lets a browser that
 * held sound back play it.
 */
export function useCallTones(): void {
  const tone = usePhone((s) => callTone(Object.values(s.calls)));
  const outputId = useAudio((s) => s.outputId);
  const ringerId = useAudio((s) => s.ringerId);
  const ringVolume = useAudio((s) => s.ringVolume);
  const players = useRef<{ ringer: TonePlayer; call: TonePlayer } | undefined>(undefined);

  useEffect(() => {
    const { outputId: output, ringerId: ringer, ringVolume: volume } = useAudio.getState();
    const blocked = { ringer: false, call: false };
    const publish = (): void => useAudio.setState({ ringerBlocked: blocked.ringer || blocked.call });
    // The hint above the views goes once sound is allowed, and everything below it moves up. Not while the press that
    // allowed it is still down: the button under the pointer (Answer, as often as not) would move away before the
    // release, and the press would click nothing. The hint goes once the press is over.
    let pressed = false;
    let unblockAfterPress = false;
    const report = (which: 'ringer' | 'call') => (is: boolean) => {
      blocked[which] = is;
      if (!is && pressed) unblockAfterPress = true;
      else publish();
    };
    const created = { ringer: new TonePlayer({ volume, sinkId: ringer || output }, report('ringer')), call: new TonePlayer({ volume: callToneVolume, sinkId: output }, report('call')) };
    players.current = created;
    window.veilphoneTones = { ringer: created.ringer.probe, call: created.call.probe };
    const unlock = (): void => {
      created.ringer.unlock();
      created.call.unlock();
    };
    const press = (): void => {
      pressed = true;
      unlock();
    };
    const release = (): void => {
      pressed = false;
      if (!unblockAfterPress) return;
      unblockAfterPress = false;
      setTimeout(publish, 0); // after the click this release makes has been dispatched
    };
    window.addEventListener('pointerdown', press, true);
    window.addEventListener('pointerup', release, true);
    window.addEventListener('pointercancel', release, true);
    window.addEventListener('keydown', unlock, true);
    return () => {
      window.removeEventListener('pointerdown', press, true);
      window.removeEventListener('pointerup', release, true);
      window.removeEventListener('pointercancel', release, true);
      window.removeEventListener('keydown', unlock, true);
      created.ringer.close();
      created.call.close();
      players.current = undefined;
    };
  }, []);

  useEffect(() => {
    players.current?.ringer.play(tone === 'ring' ? 'ring' : undefined);
    players.current?.call.play(tone === 'ringback' || tone === 'waiting' ? tone : undefined);
  }, [tone]);
  useEffect(() => void players.current?.ringer.setSink(ringerId || outputId), [ringerId, outputId]);
  useEffect(() => void players.current?.call.setSink(outputId), [outputId]);
  useEffect(() => players.current?.ringer.setVolume(ringVolume), [ringVolume]);
}
