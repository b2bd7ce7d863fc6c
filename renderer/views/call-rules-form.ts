import type { AccountConfig, CallForwarding } from '../../core/api/phone-types.js';

/** The call rules form of one account, as the settings view edits it. */
export interface RulesForm {
  dnd: boolean;
  dndStatus: 486 | 603;
  autoAnswer: boolean;
  autoAnswerSeconds: string;
  forward: 'off' | CallForwarding['when'];
  forwardTo: string;
  forwardSeconds: string;
  forwardBy: NonNullable<CallForwarding['by']>;
}

export function formOf(account: AccountConfig): RulesForm {
  return {
    dnd: account.doNotDisturb !== undefined,
    dndStatus: account.doNotDisturb?.status ?? 486,
    autoAnswer: account.answer?.kind === 'auto',
    autoAnswerSeconds: account.answer?.kind === 'auto' ? String((account.answer.delayMs ?? 0) / 1000) : '0',
    forward: account.forward?.when ?? 'off',
    forwardTo: account.forward?.to ?? '',
    forwardSeconds: String((account.forward?.afterMs ?? 20_000) / 1000),
    forwardBy: account.forward?.by ?? 'redirect',
  };
}

/** The account as stored, with the form's do-not-disturb, auto-answer and forwarding (the password stays masked). */
export function configOf(account: AccountConfig, form: RulesForm): AccountConfig {
  const { doNotDisturb: _dnd, forward: _forward, ...rest } = account;
  const config: AccountConfig = rest;
  if (form.dnd) config.doNotDisturb = { status: form.dndStatus };
  const delay = Math.round(Number(form.autoAnswerSeconds) * 1000);
  if (form.autoAnswer) config.answer = { kind: 'auto', ...(Number.isFinite(delay) && delay > 0 ? { delayMs: Math.min(delay, 60_000) } : {}) };
  else if (account.answer?.kind === 'auto') config.answer = { kind: 'manual' };
  if (form.forward !== 'off' && form.forwardTo.trim().length > 0) {
    const after = Math.round(Number(form.forwardSeconds) * 1000);
    config.forward = {
      when: form.forward,
      to: form.forwardTo.trim(),
      ...(form.forward === 'no-answer' && Number.isFinite(after) ? { afterMs: Math.max(1000, Math.min(after, 300_000)) } : {}),
      ...(form.forwardBy === 'call' ? { by: 'call' as const } : {}),
    };
  }
  return config;
}
