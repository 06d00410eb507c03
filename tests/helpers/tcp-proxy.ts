/**
 * A loopback TCP proxy whose connections the test can cut: a real dropped link (the server
 * sees its socket die, the client sees a close) without stopping the server.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Drops every link open now; new ones still go through. */
  cut(): void;
  /** New links go to this port from now on (a load balancer moving off a dead instance). */
  retarget(port: number): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let target = targetPort;
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const server = createServer((inbound) => {
    const outbound = connect(target, '127.0.0.1');
    track(inbound);
    track(outbound);
    const teardown = (): void => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', teardown).on('close', teardown);
    outbound.on('error', teardown).on('close', teardown);
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const cut = (): void => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    cut,
    retarget: (port) => {
      target = port;
    },
    close: async () => {
      cut();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
