import os from 'node:os';
import path from 'node:path';

/** The OS application-data folder for Veilphone: XDG on Linux, Application Support on macOS, %APPDATA% on Windows. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(os.homedir(), 'AppData', 'Roaming'), 'Veilphone');
  if (platform === 'darwin') return path.join(os.homedir(), 'Library', 'Application Support', 'Veilphone');
  return path.join(env.XDG_DATA_HOME ?? path.join(os.homedir(), '.local', 'share'), 'veilphone');
}

/** Where the call log lives inside a data dir. */
export function callLogPath(dataDir: string): string {
  return path.join(dataDir, 'calllog.sqlite');
}
