import { useState } from 'react';
import type { AccountConfig, CallForwarding } from '../../core/api/phone-types.js';
import { usePhone } from '../store/phone-store.js';
import { useT } from './use-t.js';

interface RulesForm {
  dnd: boolean;
  dndStatus: 486 | 603;
  autoAnswer: boolean;
  autoAnswerSeconds: string;
  forward: 'off' | CallForwarding['when'];
  forwardTo: string;
  forwardSeconds: string;
}

function formOf(account: AccountConfig): RulesForm {
  return {
    dnd: account.doNotDisturb !== undefined,
    dndStatus: account.doNotDisturb?.status ?? 486,
    autoAnswer: account.answer?.kind === 'auto',
    autoAnswerSeconds: account.answer?.kind === 'auto' ? String((account.answer.delayMs ?? 0) / 1000) : '0',
    forward: account.forward?.when ?? 'off',
    forwardTo: account.forward?.to ?? '',
    forwardSeconds: String((account.forward?.afterMs ?? 20_000) / 1000),
  };
}

/** The account as stored, with the form's do-not-disturb, auto-answer and forwarding (the password stays masked). */
function configOf(account: AccountConfig, form: RulesForm): AccountConfig {
  const { doNotDisturb: _dnd, forward: _forward, ...rest } = account;
  const config: AccountConfig = rest;
  if (form.dnd) config.doNotDisturb = { status: form.dndStatus };
  const delay = Math.round(Number(form.autoAnswerSeconds) * 1000);
  if (form.autoAnswer) config.answer = { kind: 'auto', ...(Number.isFinite(delay) && delay > 0 ? { delayMs: Math.min(delay, 60_000) } : {}) };
  else if (account.answer?.kind === 'auto') config.answer = { kind: 'manual' };
  if (form.forward !== 'off' && form.forwardTo.trim().length > 0) {
    const after = Math.round(Number(form.forwardSeconds) * 1000);
    config.forward = { when: form.forward, to: form.forwardTo.trim(), ...(form.forward === 'no-answer' && Number.isFinite(after) ? { afterMs: Math.max(1000, Math.min(after, 300_000)) } : {}) };
  }
  return config;
}

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
