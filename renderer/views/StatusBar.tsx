import { useState } from 'react';
import { PhoneError } from '../../core/api/phone-error.js';
import type { AddressStatus, RegistrationCause, RegistrationSnapshot } from '../../core/api/phone-types.js';
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

/** A household terminal's number, address and gateway (seed 001 ¶[55]-[57]), beside its registration. */
function HouseholdTerminal({ accountId }: { accountId: string }) {
  const t = useT();
  const terminal = usePhone((s) => s.household.find((h) => h.accountId === accountId));
  if (!terminal) return null;
  const text = t('householdStatus').replace('{number}', terminal.number).replace('{address}', terminal.address).replace('{gateway}', terminal.gateway);
  return (
    <span className="household-terminal" data-number={terminal.number} data-room={terminal.room}>
      {text}
    </span>
  );
}

/** Why an account is not registered, in words (from its snapshot's cause, or the error of the last attempt). */
function causeText(t: (key: string) => string, cause: RegistrationCause | undefined, status: number | undefined): string {
  const code = status !== undefined ? String(status) : '—';
  if (cause !== undefined) return t(`cause_${cause}`).replace('{status}', code);
  return `${t('error_REGISTER_FAILED')}${status !== undefined ? ` (${status})` : ''}`;
}

/**
 * A failed registration with its cause, when the phone tries again by itself, and a way to try now, under the status bar. A new attempt that fails before
 * any REGISTER went out (the server's TCP or WebSocket port refused the connection) is said here too: such a failure
 * leaves no registration snapshot to read it from.
 */
function RegistrationProblem({ accountId, name, registration }: { accountId: string; name: string; registration: RegistrationSnapshot | undefined }) {
  const t = useT();
  const api = usePhone((s) => s.api);
  const language = usePhone((s) => s.language);
  const [attempt, setAttempt] = useState<{ busy: boolean; cause?: RegistrationCause; status?: number }>({ busy: false });
  const state = registration?.state ?? 'unregistered';
  const retryAt = registration?.retryAt;
  const failed = state === 'failed' || attempt.cause !== undefined || retryAt !== undefined;
  if (!failed || state === 'registered' || state === 'registering') return null;
  const retry = async (): Promise<void> => {
    if (!api) return;
    setAttempt({ busy: true });
    try {
      await api.register(accountId);
      setAttempt({ busy: false });
    } catch (error) {
      // a REGISTER that was answered updates the snapshot (and its cause); a connection that never opened does not
      const unreachable = error instanceof PhoneError && error.code === 'TRANSPORT_FAILED';
      setAttempt({ busy: false, ...(unreachable ? { cause: 'unreachable' as const } : {}) });
    }
  };
  const cause = attempt.cause ?? registration?.cause;
  const status = attempt.cause !== undefined ? undefined : registration?.status;
  return (
    <p className={`registration-problem cause-${cause ?? 'unknown'}`} role="alert" data-account={accountId}>
      <span className="problem-account">{name}:</span> <span className="problem-text">{causeText(t, cause, status)}</span>
      {registration?.server ? <small className="problem-server"> · {registration.server}</small> : null}
      {retryAt !== undefined ? <small className="problem-retry"> · {t('registerRetryAt').replace('{time}', new Date(retryAt).toLocaleTimeString(language))}</small> : null}{' '}
      <button type="button" disabled={attempt.busy} onClick={() => void retry()}>
        {t('registerAgain')}
      </button>
    </p>
  );
}

/**
 * Registration and address mode per account, the network (embedded lab or a server), the lease, the switches; and
 * under it, every account whose registration failed and why. A narrow window puts the address mode, the network and
 * the lease on one muted line of their own, and its settings in the tab bar.
 */
export function StatusBar({ narrow }: { narrow: boolean }) {
  const t = useT();
  const accounts = usePhone((s) => s.accounts);
  const registrations = usePhone((s) => s.registrations);
  const addresses = usePhone((s) => s.addresses);
  const network = usePhone((s) => s.network);
  const language = usePhone((s) => s.language);
  const setLanguage = usePhone((s) => s.setLanguage);
  const view = usePhone((s) => s.view);
  const setView = usePhone((s) => s.setView);
  const networkLine = (
    <p className="network" data-network={network?.kind ?? 'unknown'} title={network?.servers.join('\n') ?? ''}>
      {network ? (network.kind === 'lab' ? t('networkLab') : `${t('networkExternal')} ${network.servers[0] ?? ''}`) : ''}
    </p>
  );
  return (
    <>
      <header className="status-bar">
        <h1>{t('appTitle')}</h1>
        <ul className="registrations" aria-label={t('registration')}>
          {accounts.map((account) => {
            const state = registrations[account.id]?.state ?? 'unregistered';
            return (
              <li key={account.id} className={`registration ${state}`} data-account={account.id}>
                <span className="dot" aria-hidden="true" />
                <span className="account">{account.displayName ?? account.user}</span> <span className="state">{t(state)}</span>
                {/* calls that will not ring here, said where the user looks first (as Linphone and MicroSIP do) */}
                {account.doNotDisturb ? (
                  <>
                    {' '}
                    <span className="call-rule-badge dnd">{t('doNotDisturb')}</span>
                  </>
                ) : account.forward?.when === 'always' ? (
                  <>
                    {' '}
                    <span className="call-rule-badge forward">
                      {t('forwardingTo')} <bdi>{account.forward.to}</bdi>
                    </span>
                  </>
                ) : null}
                {!narrow && (
                  <>
                    {' '}
                    <AddressMode status={addresses.find((a) => a.accountId === account.id)} /> <HouseholdTerminal accountId={account.id} />
                  </>
                )}
              </li>
            );
          })}
        </ul>
        {!narrow && networkLine}
        {!narrow && <LeaseStatus />}
        {!narrow && (
          <button type="button" className="view-switch" aria-pressed={view === 'settings'} onClick={() => setView(view === 'settings' ? 'phone' : 'settings')}>
            {view === 'settings' ? t('backToPhone') : t('settings')}
          </button>
        )}
        <label className="language">
          <span className="language-label">{t('language')}</span>{' '}
          <select value={language} onChange={(event) => setLanguage(event.target.value as Language)}>
            <option value="en">English</option>
            <option value="ja">日本語</option>
          </select>
        </label>
        {narrow && (
          <div className="status-meta">
            {accounts.map((account) => (
              <span key={account.id} data-account={account.id}>
                <AddressMode status={addresses.find((a) => a.accountId === account.id)} /> <HouseholdTerminal accountId={account.id} />
              </span>
            ))}
            {networkLine}
            <LeaseStatus />
          </div>
        )}
      </header>
      {accounts.map((account) => (
        <RegistrationProblem key={account.id} accountId={account.id} name={account.displayName ?? account.user} registration={registrations[account.id]} />
      ))}
    </>
  );
}
