import { Child } from '../test/support/child.js';

/** What GNU time says of one finished command. */
export interface CommandTime {
  wallS: number;
  maxRssMb: number;
  /** User plus system CPU time. */
  cpuS: number;
}

/** Run a command under GNU time (`/usr/bin/time`) to its end; it must exit 0. */
export async function timeCommand(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 300_000): Promise<CommandTime> {
  const child = Child.start('/usr/bin/time', ['-f', 'bench-time %M %e %U %S', command, ...args], { cwd, env: { ...process.env, ...env } });
  const code = await child.exitCode(timeoutMs);
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}: ${child.stdout.slice(-800)} ${child.stderr.slice(-800)}`);
  const match = /bench-time (\d+) ([\d.]+) ([\d.]+) ([\d.]+)/.exec(child.stderr);
  if (!match) throw new Error(`no time line from ${child.stderr.slice(-500)}`);
  return { maxRssMb: Number(match[1]) / 1024, wallS: Number(match[2]), cpuS: Number(match[3]) + Number(match[4]) };
}
