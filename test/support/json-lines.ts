import type { Child } from './child.js';

/** The last JSON line `child` printed that has `key` and passes `where`, once one does (bounded: 20 s, or its exit). */
export async function jsonLine<T>(child: Child, key: string, where: (value: T) => boolean = () => true): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const values = child.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((v) => key in v)
      .map((v) => v[key] as T);
    const found = values.reverse().find(where);
    if (found !== undefined) return found;
    if (Date.now() > deadline || child.process.exitCode !== null) throw new Error(`no "${key}" line\n--- stdout\n${child.stdout.slice(-3000)}\n--- stderr\n${child.stderr.slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
