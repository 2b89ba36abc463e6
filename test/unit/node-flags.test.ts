import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missingNodeFlags, SERVE_NODE_FLAGS } from '../../src/cli/nodeFlags.js';
import { ROOT } from '../helpers/service.js';

const flags = SERVE_NODE_FLAGS.join(' ');

describe("serve's node flags", () => {
  it("are on the bin's shebang (the installed command, the image, the unit and the manifests run it)", () => {
    const firstLine = readFileSync(join(ROOT, 'src/cli/main.ts'), 'utf8').split('\n')[0];
    expect(firstLine).toBe(`#!/usr/bin/env -S node ${flags}`);
  });

  it('are on npm start', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: { start: string };
    };
    expect(pkg.scripts.start).toBe(`node ${flags} dist/cli/main.js serve`);
  });

  it('are found missing only when node was started without them', () => {
    expect(missingNodeFlags([])).toEqual(SERVE_NODE_FLAGS);
    expect(missingNodeFlags(['--inspect', ...SERVE_NODE_FLAGS])).toEqual([]);
    // Another value is not the flag serve needs.
    expect(missingNodeFlags(['--gc-memory-reducer-start-delay-ms=8000'])).toEqual(SERVE_NODE_FLAGS);
  });
});
