import { JOBS } from './queue.registry.js';

/**
 * Compares the declared jobs with the handlers found: every declared job needs exactly one handler,
 * and a handler for an undeclared job is a typo. Returns the problems; empty means fine.
 */
export function checkJobHandlers(
  found: readonly string[],
  declared: readonly string[] = Object.keys(JOBS),
): string[] {
  const problems: string[] = [];
  const counts = new Map<string, number>();
  for (const name of found) counts.set(name, (counts.get(name) ?? 0) + 1);
  for (const name of declared) {
    const n = counts.get(name) ?? 0;
    if (n === 0) problems.push(`job "${name}" has no handler`);
    if (n > 1) problems.push(`job "${name}" has ${n} handlers`);
  }
  for (const name of counts.keys()) {
    if (!declared.includes(name)) problems.push(`handler for undeclared job "${name}"`);
  }
  return problems;
}
