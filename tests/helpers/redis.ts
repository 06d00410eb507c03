/**
 * A real `redis-server` (Debian's) for the tests: on a free loopback port, with nothing written
 * to disk (no RDB, no AOF; its working folder a temporary one), killable and restartable on the
 * same port as Redis going down and coming back mid-jam.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRedisServer } from '../../scripts/redis-server.ts';
import { killChild, spawnWithPort } from './child-server.ts';

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** Its process id (benchmarks read its CPU time). */
  readonly pid: number;
  /** SIGKILLs it (everything it held is gone: nothing is persisted). */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  /**
   * SIGSTOPs it: its connections stay open and its port accepts, but nothing is answered (a
   * stalled Redis). `resume` (SIGCONT) lets it go on where it stopped; `stop` resumes it first.
   */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

const START_WAIT_MS = 10_000;

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startRedis(): Promise<TestRedis> {
  const binary = findRedisServer();
  if (binary === null)
    throw new Error('redis-server is missing: `npm test` installs it (apt-get install redis-server)');
  const dir = mkdtempSync(join(tmpdir(), 'padmesh-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;

  const launch = async (): Promise<void> => {
    const process = spawn(
      binary,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--protected-mode',
        'no',
        '--loglevel',
        'notice',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = process;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), START_WAIT_MS);
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        if (/ready to accept connections/i.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      process.stdout?.on('data', onData);
      process.stderr?.on('data', onData);
      process.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}): ${output}`));
      });
    });
  };

  let paused = false;
  const signal = (name: 'SIGSTOP' | 'SIGCONT'): void => {
    const running = child as ChildProcess | null;
    if (running === null || running.exitCode !== null) return;
    running.kill(name);
    paused = name === 'SIGSTOP';
  };
  const kill = async (): Promise<void> => {
    if (paused) signal('SIGCONT');
    const running = child;
    child = null;
    if (running === null || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return (child as ChildProcess | null)?.pid ?? 0;
    },
    kill,
    restart: launch,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls an instance's /healthz until its `status` is `status` (bounded); its body. */
export async function waitForHealth(httpUrl: string, status: 'ok' | 'degraded'): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const body = (await (await fetch(`${httpUrl}/healthz`)).json()) as Record<string, unknown>;
    if (body.status === status) return body;
    if (Date.now() > deadline) throw new Error(`/healthz still says ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface InstanceProcess {
  readonly port: number;
  readonly url: string;
  readonly httpUrl: string;
  /** SIGKILL: no goodbye, its keys in Redis expire on their own. */
  kill(): Promise<void>;
}

/** A signal server instance in a child process (tests/helpers/cluster-instance.ts), on a free loopback port. */
export async function startInstance(env: {
  redisUrl: string;
  secret: string;
  heartbeatMs: number;
  staticDir?: string;
  allowedHost?: string;
}): Promise<InstanceProcess> {
  const { child, port } = await spawnWithPort(
    join(import.meta.dirname, 'cluster-instance.ts'),
    {
      REDIS_URL: env.redisUrl,
      PADMESH_SECRET: env.secret,
      HEARTBEAT_MS: String(env.heartbeatMs),
      STATIC_DIR: env.staticDir ?? '',
      ALLOWED_HOST: env.allowedHost ?? '',
    },
    START_WAIT_MS * 3,
  );
  return {
    port,
    url: `ws://127.0.0.1:${port}/ws`,
    httpUrl: `http://127.0.0.1:${port}`,
    kill: () => killChild(child),
  };
}
