import { availableParallelism, loadavg } from 'node:os';

/**
 * What `run` returns and the CPU time (user + system, in ms) this process spent meanwhile. Unlike wall time
 * it does not grow when other processes keep the machine's cores busy, so a bound on it holds on a loaded CI
 * machine.
 */
export function cpuTimed<T>(run: () => T): { result: T; ms: number } {
  const start = process.cpuUsage();
  const result = run();
  return { result, ms: usedMs(start) };
}

/** cpuTimed for work that ends with a promise (an injected request, say). */
export async function cpuTimedAsync<T>(run: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const start = process.cpuUsage();
  const result = await run();
  return { result, ms: usedMs(start) };
}

/** Just the CPU time of `run`. */
export function cpuMs(run: () => unknown): number {
  return cpuTimed(run).ms;
}

function usedMs(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/**
 * The machine's load per core over the last minute, at least 1. A wall-time limit set for a machine with a
 * core to spare stretches by it on one busier than its cores (other test files, CI neighbours).
 */
export function loadPerCore(): number {
  return Math.max(1, loadavg()[0]! / availableParallelism());
}
