/** The id of an expandable Stripe field: `'pm_…'` or `{ id: 'pm_…' }`; null when absent. */
export function idOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string') {
    return (value as { id: string }).id;
  }
  return null;
}
