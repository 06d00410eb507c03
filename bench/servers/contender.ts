/**
 * The child-process side of a benchmark contender: tells the parent its port, and answers
 * "usage" with its CPU time and memory so the parent measures the server alone, "gc" after
 * a full collection, "heap-snapshot" with the path of a snapshot it wrote, and "exit" by exiting
 * (profiling).
 */
import { writeHeapSnapshot } from 'node:v8';

export interface ContenderUsage {
  /** User + system CPU time since start, µs. */
  cpuMicros: number;
  rssBytes: number;
  /** V8 heap in use (rssBytes also holds native socket state and allocator slack). */
  heapUsedBytes: number;
}

export function serveBenchContender(port: number): void {
  process.on('message', (message) => {
    if (message === 'usage') {
      const cpu = process.cpuUsage();
      const memory = process.memoryUsage();
      const usage: ContenderUsage = {
        cpuMicros: cpu.user + cpu.system,
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
      };
      process.send?.(usage);
    } else if (message === 'gc') {
      (globalThis as { gc?: () => void }).gc?.();
      process.send?.('gc-done');
    } else if (message === 'heap-snapshot') {
      process.send?.(writeHeapSnapshot());
    } else if (message === 'exit') {
      process.exit(0); // lets --cpu-prof write its profile (stop() otherwise kills)
    }
  });
  process.send?.({ port });
}
