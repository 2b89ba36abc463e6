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
