import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPrivateDir, ensurePrivateDir, openPrivateFile, PrivateFileError, restrictMode, writePrivateFile, writePrivateFileAtomic } from './private-files.js';

const mode = (target: string): string => (fs.statSync(target).mode & 0o7777).toString(8);

/** Issue 17: directories 0700 and files 0600 whatever the umask (here the usual 022, which leaves mode 0644 files). */
describe('private files', () => {
  let root: string;
  let previous: number;
  beforeEach(() => {
    previous = process.umask(0o022);
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-private-'));
  });
  afterEach(() => {
    process.umask(previous);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('creates directories 0700, parents it made included, and leaves existing ones to ensurePrivateDir', () => {
    fs.mkdirSync(path.join(root, 'shared'), { mode: 0o755 });
    createPrivateDir(path.join(root, 'shared', 'a', 'b'));
    expect([mode(path.join(root, 'shared')), mode(path.join(root, 'shared', 'a')), mode(path.join(root, 'shared', 'a', 'b'))]).toEqual(['755', '700', '700']);
    createPrivateDir(path.join(root, 'shared', 'a', 'b')); // exists: nothing to do
    process.umask(0o077);
    createPrivateDir(path.join(root, 'strict'));
    process.umask(0o277); // a umask that even takes the owner's write bit: the mode is set after mkdir
    createPrivateDir(path.join(root, 'odd', 'x'));
    expect([mode(path.join(root, 'strict')), mode(path.join(root, 'odd')), mode(path.join(root, 'odd', 'x'))]).toEqual(['700', '700', '700']);
  });

  it('ensurePrivateDir tightens an existing 0755 directory and refuses a sticky shared one', () => {
    const dir = path.join(root, 'data');
    fs.mkdirSync(dir, { mode: 0o755 });
    ensurePrivateDir(dir);
    expect(mode(dir)).toBe('700');
    const sticky = path.join(root, 'tmp-like');
    fs.mkdirSync(sticky);
    fs.chmodSync(sticky, 0o1777);
    expect(() => ensurePrivateDir(sticky)).toThrowError(PrivateFileError);
    expect(mode(sticky)).toBe('1777'); // untouched
  });

  it('opens and writes files 0600, an existing 0644 one included', () => {
    const appended = path.join(root, 'journal');
    fs.closeSync(openPrivateFile(appended, 'a'));
    fs.writeFileSync(path.join(root, 'old'), 'x', { mode: 0o644 });
    fs.closeSync(openPrivateFile(path.join(root, 'old'), 'a'));
    writePrivateFile(path.join(root, 'export.pcap'), Buffer.from([1, 2, 3]));
    fs.writeFileSync(path.join(root, 'settings.json'), '{"old":true}', { mode: 0o644 });
    writePrivateFileAtomic(path.join(root, 'settings.json'), '{"new":true}', { sync: true });
    expect([mode(appended), mode(path.join(root, 'old')), mode(path.join(root, 'export.pcap')), mode(path.join(root, 'settings.json'))]).toEqual(['600', '600', '600', '600']);
    expect(fs.readFileSync(path.join(root, 'settings.json'), 'utf8')).toBe('{"new":true}');
    expect(fs.readdirSync(root).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('an atomic write that cannot finish leaves the old file and no temporary file', () => {
    const target = path.join(root, 'target');
    fs.mkdirSync(target); // renaming a file over a directory fails
    expect(() => writePrivateFileAtomic(target, 'x')).toThrow();
    expect(fs.statSync(target).isDirectory()).toBe(true);
    expect(fs.readdirSync(root)).toEqual(['target']);
  });

  it('restrictMode says whether it changed anything, and a missing target is no error', () => {
    const file = path.join(root, 'f');
    fs.writeFileSync(file, '');
    expect(restrictMode(file, 0o600)).toBe(true);
    expect(restrictMode(file, 0o600)).toBe(false);
    expect(restrictMode(path.join(root, 'missing'), 0o600)).toBe(false);
  });
});
