import dgram from 'node:dgram';

/** A UDP socket (IPv4) bound to address:port (0 picks a free port); rejects with the bind error. */
export async function bindUdp(port: number, address: string): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return socket;
}
