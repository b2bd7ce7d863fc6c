import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AccountConfig } from '../api/phone-types.js';
import { AccountStore } from './account-store.js';
import type { SecretSealer } from './secret-sealer.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-settings-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
let n = 0;
const file = (): string => path.join(scratch, `settings-${n++}.json`);

/** A keychain stand-in: XOR with a key only it knows, and a switch to make it unavailable. */
function fakeKeychain(key = 0x5a): SecretSealer & { on: boolean } {
  const xor = (bytes: Buffer): Buffer => Buffer.from(bytes.map((b) => b ^ key));
  return {
    scheme: 'safeStorage',
    on: true,
    available() {
      return this.on;
    },
    seal: (plain) => Buffer.concat([Buffer.from('v10'), xor(Buffer.from(plain, 'utf8'))]),
    open: (sealed) => {
      if (sealed.subarray(0, 3).toString() !== 'v10') throw new Error('not sealed by this keychain');
      return xor(sealed.subarray(3)).toString('utf8');
    },
  };
}

const account: AccountConfig = { id: 'work', user: 'alice', server: 'sip:127.0.0.1:5060', transport: 'udp', password: 'correct horse battery staple' };

describe('the settings file and the OS keychain', () => {
  it('keeps a password sealed, never in the clear, and opens it again', () => {
    const at = file();
    new AccountStore(at, fakeKeychain()).save([account]);
    const text = fs.readFileSync(at, 'utf8');
    expect(text).not.toContain('correct horse');
    expect(JSON.parse(text).accounts[0]).toMatchObject({ id: 'work', sealedPassword: { scheme: 'safeStorage' } });
    expect(JSON.parse(text).accounts[0].password).toBeUndefined();
    expect(fs.statSync(at).mode & 0o777).toBe(0o600);
    expect(new AccountStore(at, fakeKeychain()).load()).toEqual({ accounts: [account], problems: [] });
  });

  it('seals a password an earlier version stored in the clear, at the next save', () => {
    const at = file();
    new AccountStore(at).save([account]); // no keychain: in the user-only file, as before
    expect(fs.readFileSync(at, 'utf8')).toContain('correct horse');
    const store = new AccountStore(at, fakeKeychain());
    const { accounts } = store.load();
    expect(accounts[0]!.password).toBe(account.password);
    store.save(accounts);
    expect(fs.readFileSync(at, 'utf8')).not.toContain('correct horse');
  });

  it('without the keychain (or with another one) runs the account without its password and loses nothing', () => {
    const at = file();
    new AccountStore(at, fakeKeychain()).save([account]);
    const keychain = fakeKeychain();
    keychain.on = false; // a Linux session whose keyring is not unlocked yet
    const locked = new AccountStore(at, keychain);
    const loaded = locked.load();
    const { password: _password, ...withoutPassword } = account;
    expect(loaded.accounts).toEqual([withoutPassword]);
    expect(loaded.problems).toEqual([expect.stringMatching(/account 1: its password was sealed by safeStorage, which is not available here; it is kept sealed/)]);
    // another change is saved meanwhile: the sealed password goes back into the file unchanged
    locked.save([{ ...loaded.accounts[0]!, displayName: 'Alice at work' }]);
    expect(JSON.parse(fs.readFileSync(at, 'utf8')).accounts[0]).toMatchObject({ displayName: 'Alice at work', sealedPassword: { scheme: 'safeStorage' } });
    // the keyring is back: the password is too
    expect(new AccountStore(at, fakeKeychain()).load().accounts[0]).toEqual({ ...account, displayName: 'Alice at work' });
    // a keychain that cannot open it (another machine's) says so
    const foreign: SecretSealer = {
      ...fakeKeychain(),
      available: () => true,
      open: () => {
        throw new Error('the key is not in this keyring');
      },
    };
    expect(new AccountStore(at, foreign).load().problems).toEqual([expect.stringMatching(/cannot be unsealed \(the key is not in this keyring\)/)]);
  });

  it('reports a damaged sealed password and keeps the rest of the account', () => {
    const at = file();
    fs.writeFileSync(at, JSON.stringify({ version: 1, accounts: [{ ...account, password: undefined, sealedPassword: { scheme: 7 } }] }));
    const loaded = new AccountStore(at, fakeKeychain()).load();
    expect(loaded.accounts.map((a) => [a.id, a.password])).toEqual([['work', undefined]]);
    expect(loaded.problems).toEqual([expect.stringMatching(/its password is damaged/)]);
  });
});
