import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** The command that hands a URL to the user's default browser on each platform. */
export function browserOpener(platform: NodeJS.Platform, url: string): { command: string; args: string[]; verbatim?: boolean } {
  if (platform === 'darwin') return { command: 'open', args: [url] };
  // `start` is a cmd.exe built-in; its first quoted argument is a window title, hence the empty one; cmd reads `&` as
  // a command separator unless escaped, and the arguments must reach it as written (no Node quoting).
  if (platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""', url.replace(/&/g, '^&')], verbatim: true };
  return { command: 'xdg-open', args: [url] };
}

/** Why the UI is not opened in a browser: asked not to, or in CI (a test never opens the user's browser). */
export function openRefusal(options: { open?: boolean }, env: NodeJS.ProcessEnv): string | undefined {
  if (options.open === false) return '--no-open';
  if (env.VEILPHONE_NO_OPEN !== undefined && env.VEILPHONE_NO_OPEN !== '' && env.VEILPHONE_NO_OPEN !== '0') return 'VEILPHONE_NO_OPEN';
  if (env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0') return 'CI';
  return undefined;
}

/**
 * Open `url` in the user's browser, detached (closing the browser does not stop the phone, nor the other way round).
 * Resolves with undefined once the opener started, or with why it could not (no xdg-open, …): the caller prints that
 * in one line beside the URL, never a stack. An opener that starts but then fails (xdg-open finds no browser and exits
 * non-zero) is reported through `onFailed`; one that keeps running with the browser is not waited for.
 */
export function openInBrowser(
  url: string,
  options: { platform?: NodeJS.Platform; spawn?: (command: string, args: string[], options: SpawnOptions) => ChildProcess; onFailed?: (why: string) => void } = {},
): Promise<string | undefined> {
  const { command, args, verbatim } = browserOpener(options.platform ?? process.platform, url);
  const spawn = options.spawn ?? nodeSpawn;
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(command, args, { detached: true, stdio: 'ignore', windowsHide: true, ...(verbatim ? { windowsVerbatimArguments: true } : {}) });
    } catch (error) {
      resolve(`${command}: ${(error as Error).message}`);
      return;
    }
    child.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ENOENT' ? `${command} is not installed` : `${command}: ${error.message}`));
    child.once('spawn', () => {
      child.unref();
      child.once('exit', (code) => {
        if (code !== 0 && code !== null) options.onFailed?.(`${command} exited with status ${code}`);
      });
      resolve(undefined);
    });
  });
}
