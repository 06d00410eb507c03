/**
 * The child-process side of a benchmark contender: tells the parent its port, and answers
 * "usage" with its CPU time and resident memory so the parent measures the server alone.
 */
export interface ContenderUsage {
  /** User + system CPU time since start, µs. */
  cpuMicros: number;
  rssBytes: number;
}

export function serveBenchContender(port: number): void {
  process.on('message', (message) => {
    if (message === 'usage') {
      const cpu = process.cpuUsage();
      const usage: ContenderUsage = { cpuMicros: cpu.user + cpu.system, rssBytes: process.memoryUsage().rss };
      process.send?.(usage);
    } else if (message === 'gc') {
      (globalThis as { gc?: () => void }).gc?.();
      process.send?.('gc-done');
    }
  });
  process.send?.({ port });
}
