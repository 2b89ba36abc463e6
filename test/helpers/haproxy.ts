import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, openSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { canConnect } from './nginx.js';
import { exitedError, freePort, onFreePorts } from './ports.js';
import { stopChild } from './process.js';
import { tempDir } from './tmp.js';
import { waitFor } from './wait.js';

export const HAPROXY_BINARY = '/usr/sbin/haproxy';

export interface HaproxyOptions {
  /** Port of the upstream that HAProxy forwards to (backend `be_app`). */
  upstreamPort: number;
  /** More upstreams, balanced round-robin with the first (several collectors behind one balancer). */
  moreUpstreamPorts?: number[];
  /**
   * Health-check each upstream on this path (twice a second, out after one failure) and send a request whose
   * upstream refused or dropped it to another (`retries`, `option redispatch`, `retry-on`): replicas behind
   * one balancer, where a dead one must cost no caller an error.
   */
  healthPath?: string;
}

/**
 * A real HAProxy (Debian package) on 127.0.0.1 in HTTP mode with `option httplog`, in front of one upstream,
 * plus a stats frontend serving the built-in Prometheus exporter on /metrics. HAProxy logs to syslog by
 * default; here `log stdout format raw` writes its lines to the process's stdout, which is a file opened
 * for appending — so the file is a real httplog file to tail, and copytruncate rotation works on it (the
 * next write lands at the new end). Runs with TZ=UTC: httplog dates carry no zone.
 */
export class HaproxyServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: ReturnType<typeof tempDir>,
    readonly port: number,
    readonly statsPort: number,
    readonly logPath: string,
    private readonly stderr: string[],
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get metricsUrl(): string {
    return `http://127.0.0.1:${this.statsPort}/metrics`;
  }

  static start(options: HaproxyOptions): Promise<HaproxyServer> {
    return onFreePorts(() => HaproxyServer.startOnce(options));
  }

  private static async startOnce(options: HaproxyOptions): Promise<HaproxyServer> {
    const dir = tempDir('sloguard-haproxy-');
    const port = await freePort();
    const statsPort = await freePort();
    const logPath = join(dir.path, 'haproxy.log');
    const confPath = dir.file(
      'haproxy.cfg',
      `
global
  log stdout format raw local0
defaults
  mode http
  log global
  option httplog
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend fe
  bind 127.0.0.1:${port}
  default_backend be_app
backend be_app
  balance roundrobin
${
  options.healthPath
    ? `  option httpchk GET ${options.healthPath}
  retries 3
  option redispatch 1
  retry-on all-retryable-errors
  timeout connect 1s
  default-server check inter 500ms fall 1 rise 2`
    : ''
}
${[options.upstreamPort, ...(options.moreUpstreamPorts ?? [])].map((upstream, i) => `  server app${i + 1} 127.0.0.1:${upstream}`).join('\n')}
frontend stats
  bind 127.0.0.1:${statsPort}
  http-request use-service prometheus-exporter if { path /metrics }
  no log
`,
    );
    const logFd = openSync(logPath, 'a');
    const child = spawn(HAPROXY_BINARY, ['-db', '-f', confPath], {
      stdio: ['ignore', logFd, 'pipe'],
      env: { ...process.env, TZ: 'UTC' },
    });
    closeSync(logFd);
    const stderr: string[] = [];
    child.stderr?.on('data', (chunk) => stderr.push(String(chunk)));
    const server = new HaproxyServer(child, dir, port, statsPort, logPath, stderr);
    // HAProxy binds every listener before it serves, and exits when one is taken.
    const started = await waitFor(`haproxy on 127.0.0.1:${port}`, async () => {
      if (child.exitCode !== null) return 'exited';
      return (await canConnect(port)) && (await canConnect(statsPort)) && 'ready';
    });
    if (started === 'exited') {
      dir.cleanup();
      throw exitedError('haproxy', child.exitCode, stderr.join(''));
    }
    return server;
  }

  accessLog(): string {
    return existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8') : '';
  }

  /** logrotate's copytruncate: copy the log aside, then truncate it in place. Returns the copy's path. */
  copyTruncate(): string {
    const rotated = `${this.logPath}.1`;
    copyFileSync(this.logPath, rotated);
    truncateSync(this.logPath, 0);
    return rotated;
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
    this.dir.cleanup();
  }
}
