import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The house's boundaries (STYLE.md "Boundaries"), checked on every import of the source tree:
 * - a module imports another module only through its facade, its `contracts/` or its module file;
 * - `libs/domain` imports no framework and nothing outside itself;
 * - the module graph (who imports whom, types included) has no cycle;
 * - payments and refunds each depend on at most three other modules.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MODULES = 'apps/billing-api/src/modules';
const DOMAIN = 'libs/domain/src';
const FRAMEWORKS =
  /^(@nestjs|@fastify|@bull-board|typeorm|bull|stripe|pg|ioredis|fastify|pino|prom-client)(\/|$)/;

/** A source file: its path from the repository root (with `/`) and its text. */
interface SourceFile {
  path: string;
  text: string;
}

/** The module a repository path belongs to (`payments` for apps/billing-api/src/modules/payments/...). */
function moduleOf(path: string): string | null {
  if (!path.startsWith(`${MODULES}/`)) return null;
  return path.slice(MODULES.length + 1).split('/')[0] ?? null;
}

/** The import specifiers of a file (static, dynamic and re-exports; type-only ones too). */
function importsOf(file: SourceFile): string[] {
  return ts.preProcessFile(file.text, true, true).importedFiles.map((f) => f.fileName);
}

/** The repository path a relative specifier points at (`.js` as written in ESM, the `.ts` on disk). */
function target(from: string, specifier: string): string {
  return join(dirname(from), specifier).split(sep).join('/').replace(/\.js$/, '.ts');
}

/** Whether `path` is something another module may import of `module`. */
function isPublic(module: string, path: string): boolean {
  const inner = path.slice(`${MODULES}/${module}/`.length);
  return inner === `${module}.facade.ts` || inner === `${module}.module.ts` || inner.startsWith('contracts/');
}

interface ArchitectureReport {
  violations: string[];
  /** module -> the other modules it imports. */
  graph: Map<string, Set<string>>;
}

function checkArchitecture(files: readonly SourceFile[]): ArchitectureReport {
  const violations: string[] = [];
  const graph = new Map<string, Set<string>>();
  for (const file of files) {
    const own = moduleOf(file.path);
    if (own) graph.set(own, graph.get(own) ?? new Set());
    for (const specifier of importsOf(file)) {
      const relativeImport = specifier.startsWith('.');
      if (file.path.startsWith(`${DOMAIN}/`)) {
        if (FRAMEWORKS.test(specifier)) violations.push(`${file.path}: libs/domain imports ${specifier}`);
        else if (relativeImport && !target(file.path, specifier).startsWith(`${DOMAIN}/`)) {
          violations.push(`${file.path}: libs/domain imports ${specifier}, outside itself`);
        }
        continue;
      }
      if (!own || !relativeImport) continue;
      const path = target(file.path, specifier);
      const other = moduleOf(path);
      if (!other || other === own) continue;
      graph.get(own)?.add(other);
      if (!isPublic(other, path)) {
        violations.push(
          `${file.path}: imports ${path}, which is not the ${other} module's facade, contracts/ or module file`,
        );
      }
    }
  }
  for (const cycle of cycles(graph)) violations.push(`module cycle: ${cycle.join(' -> ')}`);
  return { violations, graph };
}

/** Each cycle of the graph once (found by depth-first search from every module). */
function cycles(graph: Map<string, Set<string>>): string[][] {
  const found = new Map<string, string[]>();
  const visit = (node: string, path: string[]): void => {
    for (const next of graph.get(node) ?? []) {
      const at = path.indexOf(next);
      if (at >= 0) {
        const cycle = [...path.slice(at), next];
        const key = [...cycle.slice(0, -1)].sort().join(',');
        if (!found.has(key)) found.set(key, cycle);
      } else visit(next, [...path, next]);
    }
  };
  for (const node of [...graph.keys()].sort()) visit(node, [node]);
  return [...found.values()];
}

function sourceFiles(dir: string): SourceFile[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = `${dir}/${name}`;
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    if (!name.endsWith('.ts') || /\.(spec|int-spec|e2e-spec)\.ts$/.test(name)) return [];
    return [{ path, text: readFileSync(join(ROOT, path), 'utf8') }];
  });
}

describe('architecture', () => {
  const report = checkArchitecture([...sourceFiles(MODULES), ...sourceFiles(DOMAIN)]);

  it('the source tree keeps every boundary', () => {
    expect(report.violations).toEqual([]);
  });

  it('payments and refunds each depend on at most three other modules', () => {
    for (const module of ['payments', 'refunds']) {
      const deps = [...(report.graph.get(module) ?? [])].sort();
      expect({ module, deps, fits: deps.length <= 3 }).toEqual({ module, deps, fits: true });
    }
  });

  it('finds a planted violation of each rule', () => {
    const planted = checkArchitecture([
      {
        path: `${MODULES}/payments/commands/pay.handler.ts`,
        text: `import { ReceiptRow } from '../../receipts/persistence/receipt.row.js';`,
      },
      {
        path: `${MODULES}/receipts/receipts.facade.ts`,
        text: `import type { PaymentView } from '../payments/contracts/payment.view.js';`,
      },
      { path: `${DOMAIN}/money/money.ts`, text: `import { Injectable } from '@nestjs/common';` },
      { path: `${DOMAIN}/plan/plan.ts`, text: `import { x } from '../../../apps/billing-api/src/x.js';` },
    ]);
    expect(planted.violations).toEqual([
      `${MODULES}/payments/commands/pay.handler.ts: imports ${MODULES}/receipts/persistence/receipt.row.ts, which is not the receipts module's facade, contracts/ or module file`,
      `${DOMAIN}/money/money.ts: libs/domain imports @nestjs/common`,
      `${DOMAIN}/plan/plan.ts: libs/domain imports ../../../apps/billing-api/src/x.js, outside itself`,
      'module cycle: payments -> receipts -> payments',
    ]);
  });

  it('sees through relative paths the way Node resolves them', () => {
    expect(relative(ROOT, join(ROOT, target(`${MODULES}/a/b/c.ts`, '../../x/y.js')))).toBe(
      `${MODULES}/x/y.ts`,
    );
  });
});
