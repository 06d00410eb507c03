/** UDP on 127.0.0.1 for the STUN tests: sockets closed after each test, and a Binding-request probe. */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';

const open: Socket[] = [];

/** Closes every socket `udpSocket()` made; call it in afterEach. */
export function closeUdpSockets(): void {
  for (const socket of open.splice(0)) socket.close();
}

/** A UDP socket on 127.0.0.1 (an ephemeral port unless told), closed by closeUdpSockets(). */
export async function udpSocket(port = 0): Promise<Socket> {
  const socket = createSocket('udp4');
  open.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => resolve());
  });
  return socket;
}

/** A UDP port on 127.0.0.1 that was free a moment ago. */
export async function freeUdpPort(): Promise<number> {
  const socket = await udpSocket();
  const { port } = socket.address();
  open.splice(open.indexOf(socket), 1);
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

/** Whether a STUN Binding request to 127.0.0.1:`port` gets a success response with its transaction id within 1 s. */
export async function stunAnswers(port: number): Promise<boolean> {
  const socket = await udpSocket();
  const request = Buffer.alloc(20);
  request.writeUInt16BE(0x0001, 0);
  request.writeUInt32BE(0x2112a442, 4);
  randomBytes(12).copy(request, 8);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 1_000);
    socket.once('message', (reply) => {
      clearTimeout(timer);
      resolve(reply.readUInt16BE(0) === 0x0101 && reply.subarray(8, 20).equals(request.subarray(8, 20)));
    });
    socket.send(request, port, '127.0.0.1');
  });
}
