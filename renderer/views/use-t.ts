import { translate } from '../i18n/strings.js';
import { usePhone } from '../store/phone-store.js';

/** The translate function for the current language. */
export function useT(): (key: string) => string {
  const language = usePhone((s) => s.language);
  return (key) => translate(language, key);
}
