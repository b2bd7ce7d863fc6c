import { usePhone } from '../store/phone-store.js';
import { useT } from './use-t.js';

/**
 * Why the page cannot reach its phone, and what to do: a link without its token, a stale link from an earlier run, a
 * phone service that is not running, or a connection that dropped.
 */
export function ConnectionBanner() {
  const t = useT();
  const problem = usePhone((s) => s.connectionProblem);
  const connected = usePhone((s) => s.connected);
  if (connected || problem === undefined) return null;
  const text = { 'no-token': t('token_missing'), 'stale-token': t('token_stale'), 'service-down': t('service_down'), lost: t('connectionLost') }[problem];
  return (
    <p className={`connection-banner connection-${problem}`} role="alert">
      {text}
    </p>
  );
}
