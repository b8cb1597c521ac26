// Every test runs every time: no suite or test is skipped, focused, or made conditional on the machine
// (a suite that skips itself when dist/ or a data file is missing reads as passed; it must fail instead).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SELF = path.join('test', 'unit', 'no-skipped-suites.spec.ts');

function testFiles(dir = ROOT, out: string[] = []): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', 'dist', 'coverage', '.git'].includes(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) testFiles(full, out);
    else if (/\.(spec|int-spec|e2e-spec)\.ts$/.test(entry.name)) out.push(path.relative(ROOT, full));
  }
  return out;
}

/** Lines that skip or focus: `.skip`, `.only`, `.todo`, xit/xdescribe/fit/fdescribe. */
function skips(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => !/^\s*(\/\/|\*)/.test(l))
    .filter((l) =>
      /\b(describe|it|test)\.(skip|only|todo)\b|\b(xit|xdescribe|xtest|fit|fdescribe)\(/.test(l),
    );
}

describe('no skipped suites', () => {
  it('no test file skips or focuses a test, conditionally or not', () => {
    const files = testFiles().filter((f) => f !== SELF);
    expect(files.length).toBeGreaterThan(50);
    const found = files.flatMap((f) =>
      skips(fs.readFileSync(path.join(ROOT, f), 'utf8')).map((l) => `${f}: ${l.trim()}`),
    );
    expect(found).toEqual([]);
  });

  it('sees the conditional form too', () => {
    // The samples are assembled so that this file itself holds no skipped or focused call for the
    // repository's other checks to find.
    const skip = (fn: string) => `${fn}.${'skip'}`;
    const only = (fn: string) => `${fn}.${'only'}`;
    expect(
      skips(`const d = existsSync(MAIN) ? describe : ${skip('describe')};\nd('x', () => {});`),
    ).toHaveLength(1);
    expect(skips(`const maybe = ok ? it : ${skip('it')};`)).toHaveLength(1);
    expect(
      skips(`${only('it')}('x', () => {});\nx${'it'}('y');\n// ${skip('describe')} in a comment`),
    ).toHaveLength(2);
    expect(skips("it('x', () => {});")).toEqual([]);
  });
});
