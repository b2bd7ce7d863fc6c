import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { journalFileName } from '../address/address-journal.js';
import { callLogCompanions } from '../calllog/call-log-store.js';
import { ensurePrivateDir, privateDirMode, privateFileMode, restrictMode } from '../files/private-files.js';
import { leaseFileName } from '../lease/lease-store.js';
import { settingsFileName } from './account-store.js';

/** The OS application-data folder for Veilphone: XDG on Linux, Application Support on macOS, %APPDATA% on Windows. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(os.homedir(), 'AppData', 'Roaming'), 'Veilphone');
  if (platform === 'darwin') return path.join(os.homedir(), 'Library', 'Application Support', 'Veilphone');
  return path.join(env.XDG_DATA_HOME ?? path.join(os.homedir(), '.local', 'share'), 'veilphone');
}

const callLogFileName = 'calllog.sqlite';

/** Where the call log lives inside a data dir. */
export function callLogPath(dataDir: string): string {
  return path.join(dataDir, callLogFileName);
}

/** A scenario agent's own data dir (its ownership journal, its stored lease), inside the run's data dir. */
export function agentDataDir(dataDir: string, agent: string): string {
  return path.join(dataDir, agentsDirName, agent);
}

const agentsDirName = 'agents';

/** Every file Veilphone writes in a data dir, and the temporary files its atomic writes leave after a crash. */
const ownFiles = new Set([callLogFileName, ...callLogCompanions.map((c) => callLogFileName + c), settingsFileName, journalFileName, leaseFileName]);
const ownTemporary = new RegExp(`^(?:${[settingsFileName, journalFileName, leaseFileName].map((n) => n.replace(/\./g, '\\.')).join('|')})(?:\\.\\d+)?\\.tmp$`);

/**
 * Make the data dir private before anything is written to it (issue 17): the directory 0700 (created so, or
 * tightened), and every file of ours in it, and in the scenario agents' dirs, 0600 — whatever an earlier version or
 * umask left. Files that are not Veilphone's are never touched (a data dir may be any directory the user names).
 * Throws PrivateFileError SHARED_DIRECTORY for a sticky directory such as /tmp itself, and fs errors as they come.
 */
export function prepareDataDir(dataDir: string): void {
  ensurePrivateDir(dataDir);
  tightenOwnFiles(dataDir);
  const agents = path.join(dataDir, agentsDirName);
  if (!isDirectory(agents)) return;
  restrictMode(agents, privateDirMode);
  for (const entry of fs.readdirSync(agents, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    restrictMode(path.join(agents, entry.name), privateDirMode);
    tightenOwnFiles(path.join(agents, entry.name));
  }
}

function tightenOwnFiles(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile() && (ownFiles.has(entry.name) || ownTemporary.test(entry.name))) restrictMode(path.join(dir, entry.name), privateFileMode);
  }
}

function isDirectory(target: string): boolean {
  try {
    return fs.statSync(target).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
