import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { globSync } from 'tinyglobby';
import { ensureBuilt, ROOT } from './service.js';
import { tempDir } from './tmp.js';

/**
 * better-sqlite3's install script downloads a prebuilt binary from outside the npm registry, or compiles
 * for a minute. The binary this checkout already built, laid out as a prebuild-install archive, makes the
 * install work offline (apart from the registry) and fast.
 */
function localPrebuilds(into: string): Record<string, string> {
  const module = join(ROOT, 'node_modules/better-sqlite3');
  const { version } = JSON.parse(readFileSync(join(module, 'package.json'), 'utf8')) as { version: string };
  const archive = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  execFileSync('tar', ['czf', join(into, archive), '-C', module, 'build/Release/better_sqlite3.node']);
  return { npm_config_better_sqlite3_local_prebuilds: into };
}

type Manifest = Record<'dependencies' | 'optionalDependencies' | 'peerDependencies', Record<string, string>>;

/**
 * This checkout's devDependencies found installed under `root`, leaving out those a production package
 * itself depends on (protobufjs needs @types/node, for one).
 */
function devDependenciesIn(root: string): string[] {
  const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Partial<Manifest>;
  const required = new Set<string>();
  for (const file of globSync('**/package.json', { cwd: root, absolute: true })) {
    const manifest = read(file);
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies'] as const)
      for (const name of Object.keys(manifest[field] ?? {})) required.add(name);
  }
  const { devDependencies } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  return Object.keys(devDependencies).filter(
    (name) => existsSync(join(root, 'node_modules', name)) && !required.has(name),
  );
}

export interface PackedInstall {
  /** The `npm pack` tarball of this checkout. */
  tarball: string;
  sha256: string;
  /** Environment that makes `npm install --global` of it work without reaching beyond the npm registry. */
  npmEnv: Record<string, string>;
  /** Installs the tarball with production dependencies into an empty prefix; returns the prefix. */
  install(): string;
  /** devDependencies of this checkout that an installed prefix holds (none, when --omit=dev worked). */
  devPackagesIn(prefix: string): string[];
  cleanup(): void;
}

/** Packs dist/ as a release would (`npm pack`; dist/ is built beforehand, so the pack does not rebuild it). */
export function packed(): PackedInstall {
  ensureBuilt();
  const dir = tempDir('sloguard-packed-');
  const prebuilds = join(dir.path, 'prebuilds');
  mkdirSync(prebuilds);
  const name = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir.path], {
    cwd: ROOT,
    encoding: 'utf8',
  }).trim();
  const tarball = join(dir.path, name);
  const npmEnv = { ...localPrebuilds(prebuilds), npm_config_prefer_offline: 'true' };
  let installs = 0;
  return {
    tarball,
    sha256: createHash('sha256').update(readFileSync(tarball)).digest('hex'),
    npmEnv,
    install() {
      const prefix = join(dir.path, `prefix-${++installs}`);
      execFileSync('npm', ['install', '--global', '--prefix', prefix, '--omit=dev', tarball], {
        env: { ...process.env, ...npmEnv },
        stdio: ['ignore', 'ignore', 'inherit'],
        timeout: 300_000,
      });
      if (!existsSync(join(prefix, 'bin/sloguard'))) throw new Error(`no bin/sloguard in ${prefix}`);
      return prefix;
    },
    devPackagesIn: (prefix) => devDependenciesIn(join(prefix, 'lib/node_modules/sloguard')),
    cleanup: () => dir.cleanup(),
  };
}
