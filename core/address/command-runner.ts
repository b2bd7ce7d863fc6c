import { execFile } from 'node:child_process';

export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a system tool (`ip`, `rdisc6`); injectable so the address logic can be tested without privileges. */
export type CommandRunner = (command: string, args: string[], options?: { timeoutMs?: number }) => Promise<CommandResult>;

/** Runs the program itself (no shell), bounded in time; never throws for a non-zero exit, only for a missing program. */
export const runCommand: CommandRunner = (command, args, options = {}) =>
  new Promise((resolve, reject) => {
    execFile(command, args, { timeout: options.timeoutMs ?? 10_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = (error as NodeJS.ErrnoException | null)?.code;
      if (code === 'ENOENT') return reject(Object.assign(new Error(`${command} is not installed`), { code: 'ENOENT' }));
      resolve({ stdout, stderr, code: error ? (typeof code === 'number' ? code : 1) : 0 });
    });
  });
