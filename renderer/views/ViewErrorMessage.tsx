import { usePhone, type PhoneView } from '../store/phone-store.js';
import { useT } from './use-t.js';

/** The last error, shown only in the view it was raised in (it goes when the user leaves that view). */
export function ViewErrorMessage({ view }: { view: PhoneView }) {
  const t = useT();
  const error = usePhone((s) => s.error);
  const clearError = usePhone((s) => s.clearError);
  if (!error || error.view !== view) return null;
  return (
    <p className="error" role="alert">
      <span>{t(`error_${error.code}`)}</span> <small>({error.message})</small>{' '}
      <button type="button" onClick={clearError} aria-label={t('dismiss')}>
        ×
      </button>
    </p>
  );
}
