import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');

/** The project files a module loads before it runs: its static imports (not `import type`, not `import()`), transitively. */
function staticClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const pending = [path.join(root, entry)];
  for (let guard = 0; pending.length > 0 && guard < 10_000; guard++) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^import\s+(?!type\b)(?:[^'"]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]/gm)) {
      const target = path.resolve(path.dirname(file), match[1]!.replace(/\.js$/, '.ts'));
      if (fs.existsSync(target)) pending.push(target);
    }
  }
  return new Set([...seen].map((file) => path.relative(root, file)));
}

describe('veilphone run loads what a run needs, the rest when a scenario asks (issue 23: start-up time and memory)', () => {
  const loaded = staticClosure('cli/run-command.ts');

  it('reads the static imports it walks (the scenario runner and the phone are there)', () => {
    expect(loaded).toContain('core/scenario/scenario-runner.ts');
    expect(loaded).toContain('core/phone/phone.ts');
  });

  it('leaves the embedded lab to scenarios with `lab:`, DHCP provisioning and household terminals to agents that use them', () => {
    expect([...loaded].filter((file) => file.startsWith('lab/'))).toEqual([]);
    expect(loaded).not.toContain('cli/scenario-lab.ts');
    expect(loaded).not.toContain('core/phone/provision-phone.ts');
    expect(loaded).not.toContain('core/phone/household-phone.ts');
  });

  it('leaves every command but the one run to its own module (cli/main.ts)', () => {
    const main = staticClosure('cli/main.ts');
    expect([...main].filter((file) => file.startsWith('cli/') && file !== 'cli/main.ts' && file !== 'cli/exit-codes.ts')).toEqual([]);
  });
});
