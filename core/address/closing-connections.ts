import fs from 'node:fs';
import { isIPv6 } from 'node:net';
import os from 'node:os';
import { ipv6ToBigInt } from './ipv6.js';

/**
 * The TCP states in which the kernel may still send a segment of its own on a socket (data, a FIN, a retransmission
 * of either), by the numbers Linux writes in /proc/net/tcp and tcp6: ESTABLISHED, SYN-SENT, SYN-RECEIVED, FIN-WAIT-1,
 * CLOSE-WAIT, LAST-ACK and CLOSING (RFC 9293 §3.3.2). FIN-WAIT-2 and TIME-WAIT only answer what arrives, and nothing
 * arrives for an address that is gone.
 */
const mayStillSend = new Set([0x01, 0x02, 0x03, 0x04, 0x08, 0x09, 0x0b]);

/**
 * An address as /proc/net/tcp(6) writes it: its bytes as 32-bit words in the host's byte order, in hex (upper case).
 */
export function procNetAddress(address: string): string {
  const bytes = isIPv6(address) ? ipv6Bytes(address) : Buffer.from(address.split('.').map(Number));
  const littleEndian = os.endianness() === 'LE';
  let out = '';
  for (let at = 0; at < bytes.length; at += 4) {
    const word = bytes.subarray(at, at + 4);
    out += Buffer.from(littleEndian ? [...word].reverse() : word).toString('hex');
  }
  return out.toUpperCase();
}

function ipv6Bytes(address: string): Buffer {
  const bytes = Buffer.alloc(16);
  const value = ipv6ToBigInt(address);
  bytes.writeBigUInt64BE(value >> 64n, 0);
  bytes.writeBigUInt64BE(value & 0xffff_ffff_ffff_ffffn, 8);
  return bytes;
}

/** How many sockets of a /proc/net/tcp(6) table are bound to `address` in a state that may still send. */
export function socketsStillSending(address: string, table: string): number {
  const local = procNetAddress(address);
  let count = 0;
  for (const line of table.split('\n')) {
    // "  sl  local_address rem_address   st ...": "0: 0100007F:1F90 0100007F:C4A2 01 ..."
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4 || !fields[0]!.endsWith(':')) continue;
    const [host] = fields[1]!.split(':');
    if (host === local && mayStillSend.has(parseInt(fields[3]!, 16))) count++;
  }
  return count;
}

/** The kernel's TCP table for the address's family, in this process's network namespace; undefined off Linux. */
function readTable(address: string): string | undefined {
  try {
    return fs.readFileSync(isIPv6(address) ? '/proc/net/tcp6' : '/proc/net/tcp', 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Wait, bounded, until no TCP socket on `address` may still send, so the address is not taken off the interface under
 * a connection still closing: the kernel would go on retransmitting its FIN from an address that is gone, seen by
 * whoever watches the link long after the call (a server's ACK that comes after the address went is dropped). Resolves
 * with how many were left at the deadline (0 when the table cannot be read).
 */
export async function waitForClosedConnections(address: string, options: { read?: (address: string) => string | undefined; timeoutMs?: number; intervalMs?: number } = {}): Promise<number> {
  const read = options.read ?? readTable;
  const deadline = Date.now() + (options.timeoutMs ?? 2000);
  for (;;) {
    const table = read(address);
    const left = table === undefined ? 0 : socketsStillSending(address, table);
    if (left === 0 || Date.now() >= deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 10));
  }
}
