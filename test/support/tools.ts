import { execFileSync } from 'node:child_process';

/** True when `name` is an executable on PATH. */
export function hasTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Root (or CAP_NET_ADMIN) is needed to create network namespaces. */
export function canCreateNamespaces(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Why an interop test cannot run here, or undefined when it can. In CI (CI=true) a missing tool is an error,
 * never a skip: `.ci/run` installs everything, so a missing tool there is a broken pipeline.
 */
export function missingRequirements(tools: string[], options: { namespaces?: boolean } = {}): string | undefined {
  const missing = tools.filter((tool) => !hasTool(tool));
  const reasons: string[] = [];
  if (missing.length > 0) reasons.push(`missing programs: ${missing.join(', ')}`);
  if (options.namespaces && !canCreateNamespaces()) reasons.push('needs root to create network namespaces');
  if (reasons.length === 0) return undefined;
  const reason = reasons.join('; ');
  if (process.env.CI) throw new Error(`interop requirements not met in CI: ${reason}`);
  console.warn(`[skip] ${reason}`);
  return reason;
}
