import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Network namespaces joined by veth pairs, in any shape a test draws (a caller, a server and a callee, say). Names are
 * unique per run; `destroy()` kills what still runs inside, deletes the namespaces and their /etc/netns files.
 */
export class NetnsTopology {
  private readonly names = new Map<string, string>();
  private readonly children: ChildProcess[] = [];
  private readonly id: string;
  private links = 0;

  constructor(tag: string) {
    this.id = `${tag}${process.pid.toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`.slice(0, 8);
  }

  /** Create a namespace for `role` with `lo` up; returns its name. */
  add(role: string): string {
    const name = `vp-${role.slice(0, 6)}-${this.id}`;
    run('ip', ['netns', 'add', name]);
    this.names.set(role, name);
    this.exec(role, 'ip', ['link', 'set', 'lo', 'up']);
    return name;
  }

  ns(role: string): string {
    const name = this.names.get(role);
    if (!name) throw new Error(`no namespace for ${role}`);
    return name;
  }

  /** A veth pair between two roles, both ends up; returns the interface names on each side. */
  link(a: string, b: string): { a: string; b: string } {
    const n = this.links++;
    const ifA = `v${this.id}${n}a`.slice(0, 15);
    const ifB = `v${this.id}${n}b`.slice(0, 15);
    run('ip', ['link', 'add', ifA, 'netns', this.ns(a), 'type', 'veth', 'peer', 'name', ifB, 'netns', this.ns(b)]);
    this.exec(a, 'ip', ['link', 'set', ifA, 'up']);
    this.exec(b, 'ip', ['link', 'set', ifB, 'up']);
    return { a: ifA, b: ifB };
  }

  exec(role: string, command: string, args: string[]): string {
    return run('ip', ['netns', 'exec', this.ns(role), command, ...args]);
  }

  sysctl(role: string, key: string, value: string): void {
    this.exec(role, 'sysctl', ['-q', '-w', `${key}=${value}`]);
  }

  /** `ip netns exec` shows /etc/netns/NAME/hosts as /etc/hosts to what runs in that namespace: names for one test. */
  hosts(role: string, lines: string[]): void {
    const dir = path.join('/etc/netns', this.ns(role));
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'hosts'), `127.0.0.1 localhost\n::1 localhost\n${lines.join('\n')}\n`);
  }

  spawn(role: string, command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.ns(role), command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    this.children.push(child);
    return child;
  }

  destroy(): void {
    for (const child of this.children) if (child.exitCode === null) child.kill('SIGKILL');
    for (const name of this.names.values()) {
      try {
        for (const pid of run('ip', ['netns', 'pids', name]).split(/\s+/).filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // already gone
          }
        }
      } catch {
        // never created
      }
      try {
        run('ip', ['netns', 'del', name]);
      } catch {
        // already deleted
      }
      fs.rmSync(path.join('/etc/netns', name), { recursive: true, force: true });
    }
  }
}

function run(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
