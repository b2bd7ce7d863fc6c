import { create } from 'zustand';
import type { Contact, ContactFile, ContactImportResult, ContactInput } from '../../core/api/contact-types.js';
import { PhoneError, type PhoneErrorCode } from '../../core/api/phone-error.js';
import { usePhone } from './phone-store.js';

export interface ContactsState {
  /** The whole book as last read (favourites first). */
  all: Contact[];
  /** The matches for what the dialer holds, and for which text. */
  matches: Contact[];
  matchedFor: string;
  refresh(): Promise<void>;
  match(text: string): Promise<void>;
  save(contact: ContactInput): Promise<void>;
  remove(id: string): Promise<void>;
  /** What the last vCard import did, or why the import or export failed (shown in the contacts view only). */
  fileResult?: ContactImportResult;
  fileError?: { code: PhoneErrorCode; message: string };
  busy: boolean;
  /** Import a vCard file's text: all or nothing, a re-import duplicates nobody. */
  importVcard(text: string): Promise<void>;
  /** Every contact as a vCard file for the view to save, or undefined (fileError says why). */
  exportVcard(): Promise<ContactFile | undefined>;
  clearFileStatus(): void;
}

const fileErrorOf = (error: unknown): { code: PhoneErrorCode; message: string } =>
  error instanceof PhoneError ? { code: error.code, message: error.message } : { code: 'INTERNAL', message: (error as Error)?.message ?? String(error) };

/** The address book as the views see it; it talks to the phone only through PhoneApi (errors go to the phone store). */
export const useContacts = create<ContactsState>((set, get) => ({
  all: [],
  matches: [],
  matchedFor: '',
  async refresh() {
    await usePhone.getState().run(async (api) => set({ all: await api.contacts() }));
  },
  async match(text) {
    const query = text.trim();
    if (query.length === 0) {
      set({ matches: [], matchedFor: '' });
      return;
    }
    await usePhone.getState().run(async (api) => {
      const found = await api.contacts(query);
      // an older answer arriving after a newer one must not replace it
      if (usePhone.getState().dialString.trim() === query) set({ matches: found, matchedFor: query });
    });
  },
  async save(contact) {
    await usePhone.getState().run(async (api) => {
      await api.saveContact(contact);
      await get().refresh();
    });
  },
  busy: false,
  async importVcard(text) {
    const api = usePhone.getState().api;
    if (!api) return;
    set({ busy: true, fileResult: undefined, fileError: undefined });
    try {
      set({ fileResult: await api.importContacts(text) });
      await get().refresh();
    } catch (error) {
      set({ fileError: fileErrorOf(error) });
    } finally {
      set({ busy: false });
    }
  },
  async exportVcard() {
    const api = usePhone.getState().api;
    if (!api) return undefined;
    set({ busy: true, fileResult: undefined, fileError: undefined });
    try {
      return await api.exportContacts();
    } catch (error) {
      set({ fileError: fileErrorOf(error) });
      return undefined;
    } finally {
      set({ busy: false });
    }
  },
  clearFileStatus: () => set({ fileResult: undefined, fileError: undefined }),
  async remove(id) {
    await usePhone.getState().run(async (api) => {
      await api.removeContact(id);
      await get().refresh();
    });
  },
}));
