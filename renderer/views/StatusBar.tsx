import type { Language } from '../i18n/strings.js';
import { usePhone } from '../store/phone-store.js';
import { useT } from './use-t.js';

/** Registration per account, and the language switch. */
export function StatusBar() {
  const t = useT();
  const accounts = usePhone((s) => s.accounts);
  const registrations = usePhone((s) => s.registrations);
  const connected = usePhone((s) => s.connected);
  const language = usePhone((s) => s.language);
  const setLanguage = usePhone((s) => s.setLanguage);
  return (
    <header className="status-bar">
      <h1>{t('appTitle')}</h1>
      <ul className="registrations" aria-label={t('registration')}>
        {accounts.map((account) => {
          const state = registrations[account.id]?.state ?? 'unregistered';
          return (
            <li key={account.id} className={`registration ${state}`} data-account={account.id}>
              <span className="account">{account.displayName ?? account.user}</span> <span className="state">{t(state)}</span>
            </li>
          );
        })}
      </ul>
      {!connected && <p role="alert">{t('connectionLost')}</p>}
      <label>
        {t('language')}{' '}
        <select value={language} onChange={(event) => setLanguage(event.target.value as Language)}>
          <option value="en">English</option>
          <option value="ja">日本語</option>
        </select>
      </label>
    </header>
  );
}
