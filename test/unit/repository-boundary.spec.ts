// Nothing in the repository may read or link a path above its root: a fresh clone in an empty folder is
// all there is. This walks every source, test, script, configuration and document file and resolves each
// relative path it names.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SKIP_DIRS = new Set(['node_modules', 'dist', 'coverage', '.git', 'bench-results']);
const TEXT =
  /\.(ts|mts|cts|js|mjs|cjs|json|md|ya?ml|sh|env|example|txt)$|^(Dockerfile|run|\.env\.example|\.dockerignore|\.npmrc)$/;
// Big generated data (JSON without paths, checked elsewhere), and this file: its detector tests are
// escapes on purpose.
const SKIP_FILES = new Set([
  'test/unit/repository-boundary.spec.ts',
  'package-lock.json',
  'apps/stripe-emulator/openapi/spec3.subset.json',
  'apps/stripe-emulator/openapi/fixtures3.subset.json',
]);

/**
 * The team's shelf beside the repository (its requirements, style guide and Stripe data): never named,
 * however it is reached.
 */
const FORBIDDEN = [
  /\.\.\/shared\b/,
  /\/work\/shared\b/,
  /\bshared\/(SPEC|STYLE)\.md\b/,
  /\bshared\/stripe\b/,
];

interface Escape {
  file: string;
  line: number;
  text: string;
}

const REL = String.raw`((?:\.\.\/)+[^'"\x60)\s]*)`;
/**
 * Where code names a path: an import or export at the start of a line, import() and require(), new URL(),
 * the fs and path calls. A relative path elsewhere in code (a string given to a test's own helper, a
 * planted import inside a template literal) is data, not a path this file reads.
 */
const CODE_PATHS = [
  new RegExp(String.raw`^\s*(?:import|export)\b[^'"]*?['"]` + REL + `['"]`),
  new RegExp(String.raw`\b(?:import|require)\(\s*['"\x60]` + REL),
  new RegExp(String.raw`\bnew URL\(\s*['"\x60]` + REL),
  new RegExp(
    String.raw`\b(?:readFileSync|readFile|readdirSync|existsSync|statSync|createReadStream|loadEnvFile|resolve|join)\(\s*['"\x60]` +
      REL,
  ),
];
const CODE = /\.(ts|mts|cts|js|mjs|cjs)$/;

/**
 * Every place in `text` (the contents of `file`, relative to `root`) that refers to a path above `root`:
 * a relative path with `..` segments that resolves outside it (in code: where code names a path, see
 * CODE_PATHS; in documents, configuration and shell: any quoted or linked one), `'..'` taken from the
 * working directory (the root when the scripts and tests run), or one of the team's shelf paths.
 */
function escapesIn(file: string, text: string, root = ROOT): Escape[] {
  const found: Escape[] = [];
  const dir = path.dirname(path.resolve(root, file));
  const outside = (target: string): boolean => {
    const rel = path.relative(root, target);
    return rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);
  };
  // a glob ('../../apps/*' in the lint rules) is a pattern of import specifiers, not a path
  const leaves = (target: string): boolean => !target.includes('*') && outside(path.resolve(dir, target));
  const code = CODE.test(file);
  text.split('\n').forEach((content, i) => {
    const hit = (): void => void found.push({ file, line: i + 1, text: content.trim() });
    if (FORBIDDEN.some((re) => re.test(content))) return hit();
    if (code) {
      for (const re of CODE_PATHS) {
        const m = re.exec(content);
        if (m && leaves(m[1] as string)) return hit();
      }
    } else {
      // '../x' in quotes or backticks, and Markdown links (../x)
      for (const m of content.matchAll(/['"`(]((?:\.\.\/)+[^'"`)\s]*)/g))
        if (leaves(m[1] as string)) return hit();
    }
    // path.resolve(process.cwd(), '..', ...) and friends: the working directory is the root
    if (/cwd\(\)\s*,\s*['"]\.\.['"]/.test(content)) return hit();
    // path.resolve(import.meta.dirname | __dirname, '..', '..', ...): count the steps up
    const up = /(?:import\.meta\.dirname|__dirname|\bhere)\s*,((?:\s*['"]\.\.['"]\s*,?)+)/.exec(content);
    if (up) {
      const steps = ((up[1] as string).match(/\.\./g) ?? []).length;
      if (outside(path.resolve(dir, ...Array<string>(steps).fill('..')))) return hit();
    }
  });
  return found;
}

function repositoryFiles(dir = ROOT, out: string[] = []): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (SKIP_DIRS.has(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) repositoryFiles(full, out);
    else if (TEXT.test(entry.name)) out.push(path.relative(ROOT, full));
  }
  return out;
}

describe('the repository stands alone', () => {
  it('no source, test, script, configuration or document refers to a path above the repository root', () => {
    const files = repositoryFiles().filter((f) => !SKIP_FILES.has(f));
    // the walk saw the code, the tests, the scripts and CI
    for (const expected of ['package.json', '.ci/run', 'scripts/start.mjs', 'test/setup/global-setup.mjs'])
      expect(files).toContain(expected);
    expect(files.filter((f) => f.startsWith('apps/') && f.endsWith('.ts')).length).toBeGreaterThan(100);
    const escapes = files.flatMap((f) => escapesIn(f, fs.readFileSync(path.join(ROOT, f), 'utf8')));
    expect(escapes).toEqual([]);
  });

  describe('the detector', () => {
    it('flags relative paths that leave the root, from where the file is', () => {
      expect(escapesIn('apps/a/b.ts', "import x from '../../../x.js';", '/repo')).toHaveLength(1);
      expect(escapesIn('apps/a/b.ts', "import x from '../../x.js';", '/repo')).toEqual([]);
      expect(escapesIn('docs/a.md', 'see [spec](../../SPEC.md)', '/repo')).toHaveLength(1);
      expect(escapesIn('docs/a.md', 'see [ops](../README.md)', '/repo')).toEqual([]);
      expect(escapesIn('a.ts', "new URL('../x.json', import.meta.url)", '/repo')).toHaveLength(1);
      expect(escapesIn('t/a.ts', "const x = await import('../../x.js');", '/repo')).toHaveLength(1);
      expect(escapesIn('t/a.ts', "fs.readFileSync('../../x.json')", '/repo')).toHaveLength(1);
      expect(escapesIn('.ci/run', 'cp "../../secrets" .', '/repo')).toHaveLength(1);
    });

    it('leaves relative paths that are data in code alone (a planted import, a helper argument)', () => {
      const planted =
        "  { text: `import { x } from '../../../../apps/x.js';` },\n  target('a/b.ts', '../../../x.js');";
      expect(escapesIn('scripts/a.spec.ts', planted, '/repo')).toEqual([]);
    });

    it("flags '..' from the working directory or from the file's folder past the root", () => {
      expect(escapesIn('t/a.ts', "path.resolve(process.cwd(), '..', 'data')", '/repo')).toHaveLength(1);
      expect(escapesIn('t/a.ts', "path.resolve(import.meta.dirname, '..', '..', 'x')", '/repo')).toHaveLength(
        1,
      );
      expect(escapesIn('t/a.ts', "path.resolve(import.meta.dirname, '..', 'x')", '/repo')).toEqual([]);
    });

    it("names the team's shelf wherever it appears, with the line", () => {
      // spelled in pieces, so that this file does not name it
      const spec = ['..', 'shared', 'SPEC.md'].join('/');
      expect(escapesIn('README.md', `intro\nread ${spec}`, '/repo')).toEqual([
        { file: 'README.md', line: 2, text: `read ${spec}` },
      ]);
      expect(
        escapesIn('x.ts', `const d = '${['', 'work', 'shared', 'stripe'].join('/')}';`, '/repo'),
      ).toHaveLength(1);
    });
  });
});
