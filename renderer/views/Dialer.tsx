import { matchDialRules } from '../../core/api/dial-rules.js';
import { useCallOptions } from '../store/call-options-store.js';
import { usePhone } from '../store/phone-store.js';
import { pastedDialString } from './dial-paste.js';
import { useT } from './use-t.js';

const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

/** Free text or keypad, the account, the Anonymous switch and its mode; Enter calls. */
export function Dialer() {
  const t = useT();
  const dialString = usePhone((s) => s.dialString);
  const setDialString = usePhone((s) => s.setDialString);
  const dial = usePhone((s) => s.dial);
  const accounts = usePhone((s) => s.accounts);
  const { accountId, anonymous, mode, selectAccount, setAnonymous, setMode } = useCallOptions();
  const account = accounts.find((a) => a.id === accountId) ?? accounts[0];
  const rule = matchDialRules(dialString, account?.dialRules).rule;

  return (
    <form
      className="dialer"
      aria-label={t('dialer')}
      onSubmit={(event) => {
        event.preventDefault();
        void dial();
      }}
    >
      {accounts.length > 1 && (
        <label className="account-picker">
          {t('account')}{' '}
          <select value={account?.id ?? ''} onChange={(event) => selectAccount(accounts.find((a) => a.id === event.target.value))}>
            {accounts.map((a) => (
              <option key={a.id} value={a.id}>
                {a.displayName ?? a.user} ({a.id})
              </option>
            ))}
          </select>
        </label>
      )}
      <div className="dial-input">
        <input
          id="dial-string"
          aria-label={t('dialerLabel')}
          placeholder={t('dialerLabel')}
          value={dialString}
          autoComplete="off"
          spellCheck={false}
          onChange={(event) => setDialString(event.target.value)}
          onPaste={(event) => {
            event.preventDefault();
            setDialString(pastedDialString(event.clipboardData.getData('text')));
          }}
        />
        <button type="button" aria-label={t('backspace')} onClick={() => setDialString(dialString.slice(0, -1))}>
          ⌫
        </button>
      </div>
      <p className={`dial-hint ${rule?.action ?? ''}`} role="status" aria-live="polite">
        {rule ? t(rule.action === 'withhold' ? 'hintWithhold' : 'hintPresent').replace('{prefix}', rule.prefix) : ''}
      </p>
      <div className="keypad" role="group" aria-label={t('keypad')}>
        {keys.map((key) => (
          <button key={key} type="button" aria-label={key} onClick={() => setDialString(dialString + key)}>
            {key}
          </button>
        ))}
      </div>
      <div className="anonymity">
        <label className="switch">
          <input type="checkbox" role="switch" aria-checked={anonymous} checked={anonymous} onChange={(event) => setAnonymous(event.target.checked)} />{' '}
          {t('anonymousSwitch')}
        </label>
        {anonymous && (
          <fieldset className="anonymity-mode">
            <legend>{t('anonymityMode')}</legend>
            <label>
              <input type="radio" name="anonymity-mode" value="prefix" checked={mode === 'prefix'} onChange={() => setMode('prefix')} /> {t('modePrefix')}
            </label>
            <label>
              <input type="radio" name="anonymity-mode" value="header" checked={mode === 'header'} onChange={() => setMode('header')} /> {t('modeHeader')}
            </label>
          </fieldset>
        )}
      </div>
      <button type="submit" className="call-button" disabled={dialString.trim().length === 0}>
        {t('call')}
      </button>
    </form>
  );
}
