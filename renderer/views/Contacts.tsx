import { useEffect, useRef, useState } from 'react';
import { callbackTarget } from '../../core/api/callback-target.js';
import { showInvisibles } from '../../core/api/invisible-characters.js';
import type { CallLogEntry } from '../../core/api/call-log-types.js';
import type { Contact } from '../../core/api/contact-types.js';
import { callRequestOptions } from '../store/call-options-store.js';
import { useContacts } from '../store/contacts-store.js';
import { usePhone } from '../store/phone-store.js';
import { saveFile } from './save-file.js';
import { useT } from './use-t.js';

/** The address book: every contact (favourites first) with a call button per number, a form to add one, delete. */
export function Contacts() {
  const t = useT();
  const connected = usePhone((s) => s.connected);
  const { all, refresh, save, remove, importVcard, exportVcard, fileResult, fileError, busy, clearFileStatus } = useContacts();
  const fileInput = useRef<HTMLInputElement>(null);
  const [name, setName] = useState('');
  const [number, setNumber] = useState('');
  const [anonymous, setAnonymous] = useState(false);
  const [favourite, setFavourite] = useState(false);
  useEffect(() => {
    if (connected) void refresh();
  }, [connected, refresh]);
  // an import's result or error belongs to this view: it goes when the view does
  useEffect(() => clearFileStatus, [clearFileStatus]);
  return (
    <section className="contacts" aria-label={t('contacts')}>
      <h2>{t('contacts')}</h2>
      <div className="contact-file">
        <button type="button" disabled={busy || !connected} onClick={() => fileInput.current?.click()}>
          {t('importVcard')}
        </button>
        <input
          ref={fileInput}
          type="file"
          hidden
          accept=".vcf,.vcard,text/vcard,text/x-vcard"
          aria-label={t('vcardFile')}
          onChange={(event) => {
            const file = event.target.files?.[0];
            event.target.value = '';
            if (file) void file.text().then(importVcard);
          }}
        />
        <button
          type="button"
          disabled={busy || !connected || all.length === 0}
          onClick={() =>
            void exportVcard().then((file) => {
              if (file) saveFile(file);
            })
          }
        >
          {t('exportVcard')}
        </button>
      </div>
      {fileResult && (
        <p className="contact-file-result" role="status">
          {t('vcardImported').replace('{added}', String(fileResult.added)).replace('{updated}', String(fileResult.updated)).replace('{unchanged}', String(fileResult.unchanged))}
        </p>
      )}
      {fileError && (
        <p className="error" role="alert">
          <span>{t(`error_${fileError.code}`)}</span> <small>({fileError.message})</small>{' '}
          <button type="button" onClick={clearFileStatus} aria-label={t('dismiss')}>
            ×
          </button>
        </p>
      )}
      <ul className="contact-list">
        {all.map((contact) => (
          <ContactRow key={contact.id} contact={contact} onRemove={() => void remove(contact.id)} />
        ))}
      </ul>
      <form
        className="contact-form"
        aria-label={t('addContact')}
        onSubmit={(event) => {
          event.preventDefault();
          if (name.trim().length === 0 || number.trim().length === 0) return;
          void save({ name: name.trim(), numbers: [{ number: number.trim() }], anonymous, favourite }).then(() => {
            setName('');
            setNumber('');
            setAnonymous(false);
            setFavourite(false);
          });
        }}
      >
        <input aria-label={t('contactName')} placeholder={t('contactName')} value={name} maxLength={128} onChange={(event) => setName(event.target.value)} />
        <input aria-label={t('contactNumber')} placeholder={t('contactNumber')} value={number} maxLength={256} onChange={(event) => setNumber(event.target.value)} />
        <label>
          <input type="checkbox" checked={anonymous} onChange={(event) => setAnonymous(event.target.checked)} /> {t('alwaysAnonymous')}
        </label>
        <label>
          <input type="checkbox" checked={favourite} onChange={(event) => setFavourite(event.target.checked)} /> {t('favourite')}
        </label>
        <button type="submit">{t('addContact')}</button>
      </form>
    </section>
  );
}

/** One contact: its name in an isolate (<bdi>), a button per number (invisible characters written out), delete. */
export function ContactRow({ contact, onRemove }: { contact: Contact; onRemove: () => void }) {
  const t = useT();
  const run = usePhone((s) => s.run);
  return (
    <li className="contact" aria-label={contact.name}>
      <span className="contact-name">
        {contact.favourite ? '★ ' : ''}
        <bdi>{contact.name}</bdi>
      </span>
      {contact.anonymous && <span className="contact-anonymous">{t('alwaysAnonymous')}</span>}
      {contact.numbers.map((n) => (
        <button key={n.number} type="button" aria-label={`${t('call')} ${contact.name} ${n.number}`} onClick={() => void run((api) => api.call({ target: n.number, ...callRequestOptions() }))}>
          {n.label ? `${n.label}: ` : ''}
          <bdi>{showInvisibles(n.number)}</bdi>
        </button>
      ))}
      <button type="button" aria-label={`${t('deleteContact')} ${contact.name}`} onClick={onRemove}>
        ×
      </button>
    </li>
  );
}

/** One click in a history row: the other party becomes a contact (its name as shown, its user or URI as number). */
export function AddContactButton({ call }: { call: CallLogEntry }) {
  const t = useT();
  const save = useContacts((s) => s.save);
  if (call.remoteAnonymous) return null;
  return (
    <button type="button" className="add-contact" aria-label={`${t('addContact')} ${call.remoteShown}`} onClick={() => void save({ name: call.remoteShown, numbers: [{ number: callbackTarget(call) }] })}>
      +
    </button>
  );
}
