import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temporary folder removed by `cleanup`; `file` writes into it and returns the path. */
export function tempDir(prefix = 'sloguard-test-') {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    file(name: string, content: string): string {
      const target = join(path, name);
      writeFileSync(target, content);
      return target;
    },
    cleanup(): void {
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** Temp folders holding given files, for one test file: `write` makes one, `cleanup` (in afterEach) drops all. */
export function tempFolders() {
  const dirs: Array<ReturnType<typeof tempDir>> = [];
  return {
    write(files: Record<string, string>): string {
      const dir = tempDir();
      dirs.push(dir);
      for (const [name, text] of Object.entries(files)) dir.file(name, text);
      return dir.path;
    },
    cleanup(): void {
      for (const dir of dirs.splice(0)) dir.cleanup();
    },
  };
}
