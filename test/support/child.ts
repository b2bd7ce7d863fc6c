import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** A child process whose output is collected, with helpers to wait for a line or for its exit (both bounded). */
export class Child {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(
    readonly process: ChildProcess,
    /** The working directory it was started in (SIPp writes its logs there). */
    readonly cwd: string = globalThis.process.cwd(),
  ) {
    process.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    process.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => process.once('exit', (code) => resolve(code)));
  }

  static start(command: string, args: string[], options: SpawnOptions = {}): Child {
    return new Child(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options }), typeof options.cwd === 'string' ? options.cwd : undefined);
  }

  /** Wait until stdout (or stderr) matches; fails with what the program printed so far. */
  async waitFor(pattern: RegExp, ms = 15_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    let exited = false;
    void this.exited.then(() => (exited = true));
    for (;;) {
      const match = pattern.exec(this.stdout) ?? pattern.exec(this.stderr);
      if (match) return match;
      if (exited || Date.now() > deadline) {
        throw new Error(`${exited ? 'exited' : 'timed out'} before printing ${pattern}\n--- stdout\n${this.stdout.slice(-3000)}\n--- stderr\n${this.stderr.slice(-3000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Wait for the exit code; kill it (and fail) if it takes longer than `ms`. */
  async exitCode(ms = 60_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
    const result = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.kill();
      throw new Error(`did not exit within ${ms} ms\n--- stdout\n${this.stdout.slice(-3000)}\n--- stderr\n${this.stderr.slice(-3000)}`);
    }
    return result;
  }

  /** Stop it by its PID: SIGTERM, then SIGKILL after a grace period. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGKILL');
  }
}
