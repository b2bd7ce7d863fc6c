import dgram from 'node:dgram';
import net from 'node:net';

/**
 * Ports this process has handed out. A port is free when asked for but bound later by the program it is for, and SIPp
 * binds three more above its media port (RTCP, video RTP and RTCP): a second pick in between could land on one of them
 * ("Unable to bind main socket, errno = 98" in a CI run). So no port within `spread` of one handed out is handed out
 * again by this process.
 */
const handedOut = new Set<number>();
const spread = 3;

function nearHandedOut(port: number): boolean {
  for (let near = port - spread; near <= port + spread; near++) if (handedOut.has(near)) return true;
  return false;
}

/** A loopback port that is free for both TCP and UDP right now (SIP servers listen on both with one number). */
export async function freePort(address = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, address, () => {
        const { port: chosen } = server.address() as net.AddressInfo;
        server.close(() => resolve(chosen));
      });
    });
    if (nearHandedOut(port)) continue;
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, address, () => socket.close(() => resolve(true)));
    });
    if (!udpFree) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error('no free port found after 20 attempts');
}
