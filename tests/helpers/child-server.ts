/** A server script (TypeScript, run by tsx) in a Node process of its own, started and stopped. */
import { type ChildProcess, spawn } from 'node:child_process';

/** Runs `script` with `env` added; resolves once it prints `{"port":N}`, rejects if it exits first or takes over `timeoutMs`. */
export async function spawnWithPort(
  script: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${script} did not start: ${output}`)), timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /\{"port":(\d+)\}/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code}) before it listened: ${output}`));
    });
  });
  return { child, port };
}

/** SIGKILL (no goodbye), and waits for the process to go. */
export async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
