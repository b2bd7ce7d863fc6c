import { useAudio } from '../store/audio-store.js';
import { useT } from './use-t.js';

/**
 * The browser has not let the page play sound yet (its autoplay policy waits for a click or key press on the page):
 * an incoming call could not ring. Said until the first click, which lets it (use-call-tones.ts unlocks the players).
 */
export function RingerBlockedHint() {
  const t = useT();
  const blocked = useAudio((s) => s.ringerBlocked);
  if (!blocked) return null;
  return (
    <p className="ringer-blocked" role="status">
      {t('ringerBlocked')}
    </p>
  );
}
