import { useEffect } from 'react';
import { callRequestOptions } from '../store/call-options-store.js';
import { useContacts } from '../store/contacts-store.js';
import { usePhone } from '../store/phone-store.js';
import { useT } from './use-t.js';

/** Contacts matching what is typed in the dialer, as it is typed; one click calls (with the contact's anonymity). */
export function ContactSuggestions() {
  const t = useT();
  const dialString = usePhone((s) => s.dialString);
  const run = usePhone((s) => s.run);
  const setDialString = usePhone((s) => s.setDialString);
  const { matches, matchedFor, match } = useContacts();
  useEffect(() => void match(dialString), [dialString, match]);
  if (matchedFor.length === 0 || matches.length === 0 || matchedFor !== dialString.trim()) return null;
  return (
    <ul className="contact-suggestions" aria-label={t('contactMatches')}>
      {matches.slice(0, 5).flatMap((contact) =>
        contact.numbers.map((n) => (
          <li key={`${contact.id}-${n.number}`}>
            <button
              type="button"
              aria-label={`${t('call')} ${contact.name} ${n.number}`}
              onClick={() =>
                void run(async (api) => {
                  await api.call({ target: n.number, ...callRequestOptions() });
                  setDialString('');
                })
              }
            >
              <span className="contact-name">{contact.favourite ? '★ ' : ''}{contact.name}</span> <span className="contact-number">{n.label ? `${n.label}: ` : ''}{n.number}</span>
              {contact.anonymous && <span className="contact-anonymous"> · {t('alwaysAnonymous')}</span>}
            </button>
          </li>
        )),
      )}
    </ul>
  );
}
