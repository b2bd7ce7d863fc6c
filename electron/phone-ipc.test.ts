import { describe, expect, it } from 'vitest';
import type { ContactFile, ContactImportResult } from '../core/api/contact-types.js';
import type { PhoneApi } from '../core/api/phone-api.js';
import { PhoneError } from '../core/api/phone-error.js';
import { bridgePhoneIpc, phoneIpc, type IpcMainLike } from './phone-ipc.js';

const appUrl = 'file:///opt/veilphone/renderer/dist/index.html';
type Invoke = (event: { senderFrame: { url: string } | null }, ...args: unknown[]) => Promise<unknown>;

/** A fake ipcMain keeping its handlers, and a phone that only has an address book to import into and export. */
function bridged(): { invoke: Invoke; imported: string[] } {
  const handlers = new Map<string, Invoke>();
  const ipc: IpcMainLike = { handle: (channel, listener) => void handlers.set(channel, listener), removeHandler: (channel) => void handlers.delete(channel) };
  const imported: string[] = [];
  const phone = {
    subscribe: () => () => undefined,
    importContacts: async (vcard: string): Promise<ContactImportResult> => {
      if (!vcard.startsWith('BEGIN:VCARD')) throw new PhoneError('INVALID_VCARD', 'not a vCard file: it must start with BEGIN:VCARD');
      imported.push(vcard);
      return { added: 1, updated: 0, unchanged: 0 };
    },
    exportContacts: async (): Promise<ContactFile> => ({ fileName: 'veilphone-contacts.vcf', mimeType: 'text/vcard', data: 'BEGIN:VCARD\r\nEND:VCARD\r\n', contacts: 1 }),
  } as unknown as PhoneApi;
  bridgePhoneIpc(ipc, phone, () => undefined, (url) => url === appUrl);
  return { invoke: handlers.get(phoneIpc.invoke)!, imported };
}

describe('vCard import and export over Electron IPC', () => {
  const own = { senderFrame: { url: appUrl } };

  it('passes a vCard text to the phone and its result back; the export comes back as a file', async () => {
    const { invoke, imported } = bridged();
    expect(await invoke(own, 'importContacts', ['BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nTEL:1\r\nEND:VCARD\r\n'])).toEqual({ ok: true, value: { added: 1, updated: 0, unchanged: 0 } });
    expect(imported).toHaveLength(1);
    expect(await invoke(own, 'exportContacts', [])).toEqual({ ok: true, value: expect.objectContaining({ fileName: 'veilphone-contacts.vcf', mimeType: 'text/vcard', contacts: 1 }) });
  });

  it('returns a bad file as a typed error, refuses what is not text, and serves no other page', async () => {
    const { invoke, imported } = bridged();
    expect(await invoke(own, 'importContacts', ['hello'])).toEqual({ ok: false, error: { code: 'INVALID_VCARD', message: 'not a vCard file: it must start with BEGIN:VCARD' } });
    expect(await invoke(own, 'importContacts', [{ text: 'BEGIN:VCARD' }])).toMatchObject({ ok: false, error: { code: 'INVALID_VCARD' } });
    expect(await invoke(own, 'importContacts', ['x'.repeat(3 * 1024 * 1024)])).toMatchObject({ ok: false, error: { code: 'INVALID_VCARD' } });
    expect(await invoke({ senderFrame: { url: 'https://evil.example/' } }, 'exportContacts', [])).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(imported).toEqual([]);
  });
});
