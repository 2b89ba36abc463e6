import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT, FileConfig } from '../../src/config/config.js';
import { ROOT } from '../helpers/service.js';

/** README.md and every Markdown page under docs/. */
function pages(): string[] {
  const found = [join(ROOT, 'README.md')];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.md')) found.push(path);
    }
  };
  walk(join(ROOT, 'docs'));
  return found;
}

/** Relative link targets of a Markdown page (external URLs, mail links and pure anchors left out). */
function relativeLinks(text: string): string[] {
  const withoutCode = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...withoutCode.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => match[1]!)
    .filter((target) => !/^[a-z]+:/i.test(target) && !target.startsWith('#'));
}

describe('documentation', () => {
  it.each(pages().map((page) => [relative(ROOT, page), page]))(
    '%s: every relative link resolves',
    (_name, page) => {
      const broken = relativeLinks(readFileSync(page, 'utf8')).filter((target) => {
        const path = resolve(dirname(page), decodeURI(target.split('#')[0]!));
        try {
          statSync(path);
          return false;
        } catch {
          return true;
        }
      });
      expect(broken).toEqual([]);
    },
  );

  it('docs/configuration.md names every environment variable and every sloguard.yaml key', () => {
    const text = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
    const settings = [
      ...Object.keys(ENVIRONMENT),
      ...Object.values(ENVIRONMENT).map((setting) => setting.key),
      ...Object.keys(FileConfig.properties),
    ];
    expect(settings.filter((setting) => !text.includes(`\`${setting}\``))).toEqual([]);
  });

  it('the README stays a newcomer page (at most 10 KB) and shows the two set-up commands', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(10 * 1024);
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });
});
