/** A port the command was asked to listen on, and the option that sets it. */
export interface PortOption {
  option: string;
  port: number;
  /** UDP sockets fail in bind(), TCP servers (TCP, WebSocket, HTTP) in listen(). */
  protocol: 'udp' | 'tcp';
}

/**
 * Words for a listen that failed because the port is taken (EADDRINUSE): which port, and the option that moves it.
 * Undefined for any other error. Node's error carries the port and the syscall (bind for UDP, listen for TCP), which
 * together tell apart the UDP and TCP listeners of a lab that share a number (5060).
 */
export function portInUseMessage(error: unknown, ports: readonly PortOption[]): string | undefined {
  const e = error as NodeJS.ErrnoException & { port?: number; address?: string };
  if (e?.code !== 'EADDRINUSE') return undefined;
  const protocol = e.syscall === 'bind' ? 'udp' : e.syscall === 'listen' ? 'tcp' : undefined;
  const matches = ports.filter((p) => p.port !== 0 && (e.port === undefined || p.port === e.port) && (protocol === undefined || p.protocol === protocol));
  const where = e.address !== undefined && e.port !== undefined ? ` on ${e.address}` : '';
  if (matches.length === 1) {
    const { option, port, protocol: kind } = matches[0]!;
    return `${kind.toUpperCase()} port ${port}${where} (${option}) is already in use: stop what holds it, or choose another with ${option} PORT (0 = any free port)`;
  }
  const port = e.port !== undefined ? `port ${e.port}${where}` : 'a port';
  if (matches.length === 0) return `${port} is already in use`;
  return `${port} is already in use (set by ${matches.map((p) => p.option).join(' or ')}): stop what holds it, or choose another port (0 = any free port)`;
}
