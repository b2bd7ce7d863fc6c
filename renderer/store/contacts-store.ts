import { create } from 'zustand';
import type { Contact, ContactInput } from '../../core/api/contact-types.js';
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
}

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
  async remove(id) {
    await usePhone.getState().run(async (api) => {
      await api.removeContact(id);
      await get().refresh();
    });
  },
}));
