import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/**
 * Two network namespaces joined by a veth pair, for tests that need a real link (DHCP broadcast, router
 * advertisements, one-time IPv6 addresses). Names are unique per run; `destroy()` kills whatever still runs inside
 * and deletes both namespaces (deleting a namespace does not kill its processes).
 */
export class NetnsPair {
  readonly phone: string;
  readonly net: string;
  readonly phoneIf: string;
  readonly netIf: string;
  private readonly children: ChildProcess[] = [];

  constructor(tag: string) {
    const id = `${tag}${process.pid.toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`.slice(0, 10);
    this.phone = `vp-ph-${id}`;
    this.net = `vp-net-${id}`;
    this.phoneIf = `vph${id}`.slice(0, 15);
    this.netIf = `vpn${id}`.slice(0, 15);
  }

  /** Create both namespaces, the veth pair, and bring every link up. */
  create(options: { phoneV4?: string; netV4?: string; netV6?: string } = {}): this {
    run('ip', ['netns', 'add', this.phone]);
    run('ip', ['netns', 'add', this.net]);
    run('ip', ['link', 'add', this.phoneIf, 'netns', this.phone, 'type', 'veth', 'peer', 'name', this.netIf, 'netns', this.net]);
    for (const [ns, ifname] of [
      [this.phone, this.phoneIf],
      [this.net, this.netIf],
    ] as const) {
      this.exec(ns, 'ip', ['link', 'set', 'lo', 'up']);
      this.exec(ns, 'ip', ['link', 'set', ifname, 'up']);
    }
    if (options.netV4) this.exec(this.net, 'ip', ['addr', 'add', options.netV4, 'dev', this.netIf]);
    if (options.phoneV4) this.exec(this.phone, 'ip', ['addr', 'add', options.phoneV4, 'dev', this.phoneIf]);
    if (options.netV6) this.exec(this.net, 'ip', ['-6', 'addr', 'add', options.netV6, 'dev', this.netIf, 'nodad']);
    return this;
  }

  /** Run a command inside a namespace and return its stdout. */
  exec(ns: string, command: string, args: string[]): string {
    return run('ip', ['netns', 'exec', ns, command, ...args]);
  }

  /** Set a sysctl inside a namespace (e.g. `net.ipv6.conf.all.accept_ra`, `0`). */
  sysctl(ns: string, key: string, value: string): void {
    this.exec(ns, 'sysctl', ['-q', '-w', `${key}=${value}`]);
  }

  /** Start a long-running program inside a namespace; it is killed by destroy(). */
  spawn(ns: string, command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    this.children.push(child);
    return child;
  }

  destroy(): void {
    for (const child of this.children) if (child.exitCode === null) child.kill('SIGKILL');
    for (const ns of [this.phone, this.net]) {
      try {
        const pids = run('ip', ['netns', 'pids', ns]).split(/\s+/).filter(Boolean);
        for (const pid of pids) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // already gone
          }
        }
      } catch {
        // namespace never created
      }
      try {
        run('ip', ['netns', 'del', ns]);
      } catch {
        // already deleted
      }
    }
  }
}

function run(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
