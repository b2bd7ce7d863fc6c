import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OwnershipJournal } from '../address/address-journal.js';
import { CallLogStore } from '../calllog/call-log-store.js';
import { PrivateFileError } from '../files/private-files.js';
import { FileLeaseStore } from '../lease/lease-store.js';
import { AccountStore, settingsPath } from './account-store.js';
import { agentDataDir, callLogPath, prepareDataDir } from './data-dir.js';

const mode = (target: string): string => (fs.statSync(target).mode & 0o777).toString(8);

/** Issue 17: the data dir is 0700 and every file Veilphone keeps in it 0600, whatever the umask. */
describe('the data dir under umask 022', () => {
  let root: string;
  let previous: number;
  beforeEach(() => {
    previous = process.umask(0o022);
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-datadir-'));
  });
  afterEach(() => {
    process.umask(previous);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('every file the phone writes there is 0600 from the start: call log with WAL and SHM, settings, journal, lease', () => {
    const dataDir = path.join(root, 'veilphone');
    prepareDataDir(dataDir);
    const log = CallLogStore.open(callLogPath(dataDir), { retentionIntervalMs: 0 });
    log.startCall({ id: 'c1', accountId: 'alice', direction: 'outgoing', sipCallId: 'x', remoteShown: 'bob', remoteUri: 'sip:bob@lab', remoteAnonymous: false, startedAt: 1 });
    new AccountStore(settingsPath(dataDir)).save([{ id: 'alice', user: 'alice', server: 'sip:127.0.0.1:5060', transport: 'udp', password: 'hunter2' }]);
    const journal = OwnershipJournal.open(dataDir);
    journal.rememberInterfaceId('0123456789abcdef');
    new FileLeaseStore(dataDir).save({
      lease: { source: 'dhcp', address: '10.0.0.5', portRange: { min: 20000, max: 20019 }, mgc: [{ address: '10.0.0.1', port: 5060 }], obtainedAt: 1, renewAt: 2, rebindAt: 3, expiresAt: 4, leaseSeconds: 4 },
      clientId: 'c',
      vendorClass: 'Veilphone-1',
      released: false,
    });
    const agent = agentDataDir(dataDir, 'bob');
    OwnershipJournal.open(agent).close(); // a scenario agent's own dir
    const files = fs.readdirSync(dataDir).sort();
    expect(files).toEqual(['agents', 'calllog.sqlite', 'calllog.sqlite-shm', 'calllog.sqlite-wal', 'lease.json', 'ownership.jsonl', 'settings.json']);
    expect(Object.fromEntries(files.map((f) => [f, mode(path.join(dataDir, f))]))).toEqual({
      agents: '700',
      'calllog.sqlite': '600',
      'calllog.sqlite-shm': '600',
      'calllog.sqlite-wal': '600',
      'lease.json': '600',
      'ownership.jsonl': '600',
      'settings.json': '600',
    });
    expect([mode(dataDir), mode(agent), mode(path.join(agent, 'ownership.jsonl'))]).toEqual(['700', '700', '600']);
    journal.close();
    log.close();
  });

  it('fixes at start what an earlier version left 0755/0644, and leaves files that are not Veilphone\'s alone', () => {
    const dataDir = path.join(root, 'veilphone');
    const agent = agentDataDir(dataDir, 'alice');
    fs.mkdirSync(agent, { recursive: true, mode: 0o755 });
    const ours = ['calllog.sqlite', 'calllog.sqlite-wal', 'calllog.sqlite-shm', 'settings.json', 'ownership.jsonl', 'lease.json', 'lease.json.31337.tmp', 'ownership.jsonl.tmp'];
    for (const name of ours) fs.writeFileSync(path.join(dataDir, name), '');
    fs.writeFileSync(path.join(agent, 'lease.json'), '');
    fs.writeFileSync(path.join(dataDir, 'README'), '');
    fs.writeFileSync(path.join(dataDir, 'run.sh'), '', { mode: 0o755 });
    expect([mode(dataDir), mode(path.join(dataDir, 'agents')), mode(path.join(dataDir, 'settings.json'))]).toEqual(['755', '755', '644']);

    prepareDataDir(dataDir);
    expect([mode(dataDir), mode(path.join(dataDir, 'agents')), mode(agent), mode(path.join(agent, 'lease.json'))]).toEqual(['700', '700', '700', '600']);
    for (const name of ours) expect(mode(path.join(dataDir, name)), name).toBe('600');
    expect([mode(path.join(dataDir, 'README')), mode(path.join(dataDir, 'run.sh'))]).toEqual(['644', '755']);
  });

  it('refuses a shared sticky directory, as /tmp itself is, with a code, and leaves it as it is', () => {
    const shared = path.join(root, 'shared');
    fs.mkdirSync(shared);
    fs.chmodSync(shared, 0o1777);
    expect(() => prepareDataDir(shared)).toThrowError(expect.objectContaining({ code: 'SHARED_DIRECTORY' }));
    expect(() => prepareDataDir(shared)).toThrowError(PrivateFileError);
    expect((fs.statSync(shared).mode & 0o7777).toString(8)).toBe('1777');
  });
});
