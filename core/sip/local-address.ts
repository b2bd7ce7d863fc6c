import dgram from 'node:dgram';
import { isIP } from 'node:net';

/**
 * The local address the OS would use to reach `remote` (a connected UDP socket sends nothing, it only asks the
 * routing table). Loopback servers are reached from loopback.
 */
export async function sourceAddressFor(remote: string, port = 5060): Promise<string> {
  if (remote === '127.0.0.1' || remote.startsWith('127.')) return '127.0.0.1';
  if (remote === '::1') return '::1';
  const socket = dgram.createSocket(isIP(remote) === 6 ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(port, remote, () => resolve());
    });
    return socket.address().address;
  } finally {
    socket.close();
  }
}
