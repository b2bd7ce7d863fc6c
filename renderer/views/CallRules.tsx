import { useState } from 'react';
import type { AccountConfig } from '../../core/api/phone-types.js';
import { usePhone } from '../store/phone-store.js';
import { configOf, formOf, type RulesForm } from './call-rules-form.js';
import { useT } from './use-t.js';

/** Per account: do not disturb (486 or 603), auto-answer after a delay, and call forwarding. */
function AccountRules({ account }: { account: AccountConfig }) {
  const t = useT();
  const run = usePhone((s) => s.run);
  const refreshSnapshot = usePhone((s) => s.refreshSnapshot);
  const [form, setForm] = useState<RulesForm>(() => formOf(account));
  const set = <K extends keyof RulesForm>(key: K, value: RulesForm[K]): void => setForm((f) => ({ ...f, [key]: value }));
  return (
    <form
      className="call-rules"
      aria-label={`${t('callRules')} ${account.id}`}
      onSubmit={(event) => {
        event.preventDefault();
        void run(async (api) => {
          await api.updateAccount(configOf(account, form));
          await refreshSnapshot();
        });
      }}
    >
      <h3>
        {t('callRules')} {account.id}
      </h3>
      <label>
        <input type="checkbox" checked={form.dnd} onChange={(event) => set('dnd', event.target.checked)} /> {t('doNotDisturb')}
      </label>
      {form.dnd && (
        <select aria-label={t('dndAnswer')} value={form.dndStatus} onChange={(event) => set('dndStatus', Number(event.target.value) as 486 | 603)}>
          <option value={486}>{t('dnd486')}</option>
          <option value={603}>{t('dnd603')}</option>
        </select>
      )}
      <label>
        <input type="checkbox" checked={form.autoAnswer} onChange={(event) => set('autoAnswer', event.target.checked)} /> {t('autoAnswer')}
      </label>
      {form.autoAnswer && (
        <label>
          {t('afterSeconds')} <input type="number" min={0} max={60} value={form.autoAnswerSeconds} onChange={(event) => set('autoAnswerSeconds', event.target.value)} />
        </label>
      )}
      <label>
        {t('forwarding')}{' '}
        <select value={form.forward} onChange={(event) => set('forward', event.target.value as RulesForm['forward'])}>
          <option value="off">{t('forwardOff')}</option>
          <option value="always">{t('forwardAlways')}</option>
          <option value="busy">{t('forwardBusy')}</option>
          <option value="no-answer">{t('forwardNoAnswer')}</option>
        </select>
      </label>
      {form.forward !== 'off' && (
        <label>
          {t('forwardTo')} <input value={form.forwardTo} maxLength={256} onChange={(event) => set('forwardTo', event.target.value)} />
        </label>
      )}
      {form.forward !== 'off' && (
        <select aria-label={t('forwardBy')} value={form.forwardBy} onChange={(event) => set('forwardBy', event.target.value as RulesForm['forwardBy'])}>
          <option value="redirect">{t('forwardByRedirect')}</option>
          <option value="call">{t('forwardByCall')}</option>
        </select>
      )}
      {form.forward === 'no-answer' && (
        <label>
          {t('afterSeconds')} <input type="number" min={1} max={300} value={form.forwardSeconds} onChange={(event) => set('forwardSeconds', event.target.value)} />
        </label>
      )}
      <button type="submit">{t('saveCallRules')}</button>
    </form>
  );
}

/** The call rules of every account, in the settings view. */
export function CallRules() {
  const accounts = usePhone((s) => s.accounts);
  return (
    <section className="call-rules-list">
      {accounts.map((account) => (
        <AccountRules key={`${account.id}-${JSON.stringify([account.doNotDisturb, account.forward, account.answer])}`} account={account} />
      ))}
    </section>
  );
}
