import { usePhone } from '../store/phone-store.js';
import { useT } from './use-t.js';

const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

/** Free text or keypad; Enter calls (the global keyboard handler also types digits here). */
export function Dialer() {
  const t = useT();
  const dialString = usePhone((s) => s.dialString);
  const setDialString = usePhone((s) => s.setDialString);
  const dial = usePhone((s) => s.dial);

  return (
    <form
      className="dialer"
      aria-label={t('keypad')}
      onSubmit={(event) => {
        event.preventDefault();
        void dial();
      }}
    >
      <div className="dial-input">
        <input
          id="dial-string"
          aria-label={t('dialerLabel')}
          placeholder={t('dialerLabel')}
          value={dialString}
          autoComplete="off"
          spellCheck={false}
          onChange={(event) => setDialString(event.target.value)}
        />
        <button type="button" aria-label={t('backspace')} onClick={() => setDialString(dialString.slice(0, -1))}>
          ⌫
        </button>
      </div>
      <div className="keypad" role="group" aria-label={t('keypad')}>
        {keys.map((key) => (
          <button key={key} type="button" aria-label={key} onClick={() => setDialString(dialString + key)}>
            {key}
          </button>
        ))}
      </div>
      <button type="submit" className="call-button" disabled={dialString.trim().length === 0}>
        {t('call')}
      </button>
    </form>
  );
}
