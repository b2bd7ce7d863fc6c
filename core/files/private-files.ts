import fs from 'node:fs';
import path from 'node:path';

/**
 * The one rule for what Veilphone keeps on disk (issue 17): its directories are 0700 and its files 0600, whatever the
 * umask. A mode given to open or mkdir is masked by the umask, so every helper sets the mode again after creating;
 * an existing file or directory with a wider mode is tightened. POSIX only: Windows has no such modes (its profile
 * folders are private by their ACLs), so there the helpers only create.
 */
export const privateDirMode = 0o700;
export const privateFileMode = 0o600;

const posix = process.platform !== 'win32';
const stickyBit = 0o1000;

export class PrivateFileError extends Error {
  override readonly name = 'PrivateFileError';
  constructor(
    readonly code: 'SHARED_DIRECTORY',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Create `dir` (and missing parents, 0700 as XDG asks) so only its owner may enter it; an existing one is tightened.
 * A sticky directory (`/tmp` itself) is shared by design and is refused rather than closed to everyone else.
 */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: privateDirMode });
  if (posix && (fs.statSync(dir).mode & stickyBit) !== 0) {
    throw new PrivateFileError('SHARED_DIRECTORY', `${dir} is a shared (sticky) directory: give Veilphone a directory of its own`);
  }
  restrictMode(dir, privateDirMode);
}

/** Create `dir` and missing parents 0700; an existing directory is left as it is (the data dir's host tightens it). */
export function createPrivateDir(dir: string): void {
  const first = fs.mkdirSync(dir, { recursive: true, mode: privateDirMode });
  if (first === undefined || !posix) return;
  // mkdir's mode went through the umask: set it on every directory this call made, from `dir` up to the first one.
  const top = path.resolve(first);
  const bottom = path.resolve(dir);
  if (bottom !== top && !bottom.startsWith(top + path.sep)) return;
  for (let at = bottom; ; at = path.dirname(at)) {
    restrictMode(at, privateDirMode);
    if (at === top || path.dirname(at) === at) return;
  }
}

/**
 * Set `target` (a file or directory, links followed) to `mode` when it has any other; nothing when it does not exist.
 * Returns whether it changed something.
 */
export function restrictMode(target: string, mode: number): boolean {
  if (!posix) return false;
  let current: number;
  try {
    current = fs.statSync(target).mode & 0o7777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  if (current === mode) return false;
  fs.chmodSync(target, mode);
  return true;
}

/** Open `file` (`'a'`, `'w'`, `'wx'`, `'r+'`…), created 0600; an existing file is tightened to 0600 too. */
export function openPrivateFile(file: string, flags: string): number {
  const fd = fs.openSync(file, flags, privateFileMode);
  if (!posix) return fd;
  try {
    if ((fs.fstatSync(fd).mode & 0o7777) !== privateFileMode) fs.fchmodSync(fd, privateFileMode);
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
  return fd;
}

/**
 * Replace `file` with `data` atomically: a private temporary file beside it (never readable by others, even for a
 * moment), flushed to disk when `sync`, then renamed over the old one. A failure removes the temporary file.
 */
export function writePrivateFileAtomic(file: string, data: string | Uint8Array, options: { sync?: boolean } = {}): void {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    const fd = openPrivateFile(temporary, 'w');
    try {
      fs.writeFileSync(fd, data);
      if (options.sync) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}

/** Write `file` (created or truncated) with `data`, 0600: for a file that is not replaced atomically (an export). */
export function writePrivateFile(file: string, data: string | Uint8Array): void {
  const fd = openPrivateFile(file, 'w');
  try {
    fs.writeFileSync(fd, data);
  } finally {
    fs.closeSync(fd);
  }
}
