import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { exitedError, freePort, onFreePorts } from './ports.js';
import { stopChild } from './process.js';
import { tempDir } from './tmp.js';
import { waitFor } from './wait.js';

export const NGINX_BINARY = '/usr/sbin/nginx';

/** The log_format the README documents: `combined` with `$request_time` appended. */
export const SLOGUARD_LOG_FORMAT =
  '\'$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time\'';

/**
 * Whether real-server tests can run. In CI a missing server is a failure (CI installs it); on a developer
 * machine the suite says loudly what to install and skips that part.
 */
export function requireBinary(path: string, debianPackage: string): boolean {
  if (existsSync(path)) return true;
  const message = `${path} is missing: install the Debian package with \`apt-get install -y ${debianPackage}\``;
  if (process.env.CI) throw new Error(`${message} (CI must not skip real-server tests)`);
  console.warn(`\n*** SKIPPING real-${debianPackage} tests: ${message} ***\n`);
  return false;
}

export interface NginxOptions {
  /** Port of the upstream that nginx proxies to. */
  upstreamPort: number;
  /** log_format body (default: the README's sloguard format). */
  logFormat?: string;
  /** Extra directives inside `http {}`. */
  extraHttp?: string;
}

/** A real nginx (Debian package) on 127.0.0.1, proxying to an upstream and writing its access log. */
export class NginxServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: ReturnType<typeof tempDir>,
    readonly port: number,
    readonly accessLogPath: string,
    private readonly errorLogPath: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static start(options: NginxOptions): Promise<NginxServer> {
    return onFreePorts(() => NginxServer.startOnce(options));
  }

  private static async startOnce(options: NginxOptions): Promise<NginxServer> {
    const dir = tempDir('sloguard-nginx-');
    const port = await freePort();
    const accessLogPath = join(dir.path, 'access.log');
    const errorLogPath = join(dir.path, 'error.log');
    const pidPath = join(dir.path, 'nginx.pid');
    for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir.path, sub));
    const conf = `
${process.getuid?.() === 0 ? 'user root;' : ''}
daemon off;
worker_processes 1;
pid ${pidPath};
error_log ${errorLogPath} warn;
events { worker_connections 256; }
http {
  client_body_temp_path ${join(dir.path, 'body')};
  proxy_temp_path ${join(dir.path, 'proxy')};
  fastcgi_temp_path ${join(dir.path, 'fastcgi')};
  uwsgi_temp_path ${join(dir.path, 'uwsgi')};
  scgi_temp_path ${join(dir.path, 'scgi')};
  log_format sloguard ${options.logFormat ?? SLOGUARD_LOG_FORMAT};
  access_log ${accessLogPath} sloguard;
  ${options.extraHttp ?? ''}
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://127.0.0.1:${options.upstreamPort}; }
  }
}
`;
    const confPath = join(dir.path, 'nginx.conf');
    writeFileSync(confPath, conf);
    const child = spawn(NGINX_BINARY, ['-p', dir.path, '-c', confPath, '-e', errorLogPath], {
      stdio: 'ignore',
    });
    const server = new NginxServer(child, dir, port, accessLogPath, errorLogPath);
    // nginx writes its PID file once it has bound its port: until then a connection may reach another server.
    // A TCP connect, not a request: a probe request would add a line to the access log under test.
    const started = await waitFor(`nginx on 127.0.0.1:${port}`, async () => {
      if (child.exitCode !== null) return 'exited';
      return existsSync(pidPath) && (await canConnect(port)) && 'ready';
    });
    if (started === 'exited') {
      const error = exitedError('nginx', child.exitCode, server.errorLog());
      dir.cleanup();
      throw error;
    }
    return server;
  }

  errorLog(): string {
    return existsSync(this.errorLogPath) ? readFileSync(this.errorLogPath, 'utf8') : '';
  }

  accessLog(): string {
    return existsSync(this.accessLogPath) ? readFileSync(this.accessLogPath, 'utf8') : '';
  }

  /** `nginx -s reopen`: the master reopens its logs, creating the access log anew after a rename. */
  async reopenLogs(): Promise<void> {
    this.child.kill('SIGUSR1');
    await waitFor('nginx to reopen its access log', () => existsSync(this.accessLogPath));
  }

  async stop(): Promise<void> {
    await stopChild(this.child, 'SIGQUIT');
    this.dir.cleanup();
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
