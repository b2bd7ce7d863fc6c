import type { AddressStatus } from '../../core/api/phone-types.js';
import type { Language } from '../i18n/strings.js';
import { usePhone } from '../store/phone-store.js';
import { LeaseStatus } from './LeaseStatus.js';
import { useT } from './use-t.js';

/** How an account's addresses work, in words: fixed, or one-time with the applier in use and why. */
function AddressMode({ status }: { status: AddressStatus | undefined }) {
  const t = useT();
  if (!status || status.mode === 'fixed') return <span className="address-mode fixed">{t('addressFixed')}</span>;
  const applier = status.applier !== undefined ? t(`applier_${status.applier}`) : t('applierPending');
  return (
    <span className="address-mode temporary" title={status.reason ?? ''}>
      {t('addressTemporary')} · {applier}
      {status.reason ? <small className="address-reason"> ({status.reason})</small> : null}
      {status.problem ? <small className="address-problem" role="alert"> {status.problem}</small> : null}
    </span>
  );
}

/** Registration and address mode per account, the network (embedded lab or a server), the lease, and the switches. */
export function StatusBar() {
  const t = useT();
  const accounts = usePhone((s) => s.accounts);
  const registrations = usePhone((s) => s.registrations);
  const addresses = usePhone((s) => s.addresses);
  const network = usePhone((s) => s.network);
  const connected = usePhone((s) => s.connected);
  const language = usePhone((s) => s.language);
  const setLanguage = usePhone((s) => s.setLanguage);
  const view = usePhone((s) => s.view);
  const setView = usePhone((s) => s.setView);
  return (
    <header className="status-bar">
      <h1>{t('appTitle')}</h1>
      <ul className="registrations" aria-label={t('registration')}>
        {accounts.map((account) => {
          const state = registrations[account.id]?.state ?? 'unregistered';
          return (
            <li key={account.id} className={`registration ${state}`} data-account={account.id}>
              <span className="account">{account.displayName ?? account.user}</span> <span className="state">{t(state)}</span>{' '}
              <AddressMode status={addresses.find((a) => a.accountId === account.id)} />
            </li>
          );
        })}
      </ul>
      <p className="network" data-network={network?.kind ?? 'unknown'} title={network?.servers.join('\n') ?? ''}>
        {network ? (network.kind === 'lab' ? t('networkLab') : `${t('networkExternal')} ${network.servers[0] ?? ''}`) : ''}
      </p>
      <LeaseStatus />
      {!connected && <p role="alert">{t('connectionLost')}</p>}
      <button type="button" className="view-switch" aria-pressed={view === 'settings'} onClick={() => setView(view === 'settings' ? 'phone' : 'settings')}>
        {view === 'settings' ? t('backToPhone') : t('settings')}
      </button>
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
