/**
 * Prorations to the second (NOTES.md "Prorations"):
 *   amount = unit price x quantity x (period end - t) / (period end - period start)
 * in integer arithmetic (BigInt, so large amounts never lose precision), rounded half away from
 * zero. A change produces a credit line (negative) for the unused time of the old item and a debit
 * line for the remaining time of the new one; $10 -> $20 at mid-period gives -$5 and +$10.
 */

export interface PricedQuantity {
  /** The subscription item the line belongs to (stable across a price change). */
  readonly itemId: string;
  readonly priceId: string;
  readonly unitAmount: number;
  readonly quantity: number;
}

export interface ProrationLine {
  readonly itemId: string;
  readonly priceId: string;
  readonly quantity: number;
  /** Negative for credits of unused time, positive for the remaining time of the new item. */
  readonly amount: number;
  readonly periodStart: number;
  readonly periodEnd: number;
  readonly description: string;
}

export class ProrationError extends Error {}

/** `numerator / denominator` rounded half away from zero, both non-negative-denominator integers. */
export function divRoundHalfAwayFromZero(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new ProrationError('denominator must be positive');
  const negative = numerator < 0n;
  const abs = negative ? -numerator : numerator;
  const q = (2n * abs + denominator) / (2n * denominator);
  return negative ? -q : q;
}

/** The share of `unitAmount * quantity` for the time from `at` to the end of the period. */
export function prorateRemaining(
  unitAmount: number,
  quantity: number,
  periodStart: number,
  periodEnd: number,
  at: number,
): number {
  if (!Number.isSafeInteger(unitAmount) || !Number.isSafeInteger(quantity)) {
    throw new ProrationError('amounts and quantities must be safe integers');
  }
  if (periodEnd <= periodStart) throw new ProrationError('empty period');
  if (at < periodStart || at > periodEnd) {
    throw new ProrationError('proration date must be within the current period');
  }
  const amount = divRoundHalfAwayFromZero(
    BigInt(unitAmount) * BigInt(quantity) * BigInt(periodEnd - at),
    BigInt(periodEnd - periodStart),
  );
  const result = Number(amount);
  if (!Number.isSafeInteger(result)) throw new ProrationError('proration overflow');
  return result;
}

/**
 * Proration lines for replacing `before` by `after` at `at` inside [periodStart, periodEnd).
 * Items are matched by `itemId`; an item whose price and quantity did not change produces nothing.
 */
export function prorationLines(
  before: readonly PricedQuantity[],
  after: readonly PricedQuantity[],
  periodStart: number,
  periodEnd: number,
  at: number,
  describe: (kind: 'unused' | 'remaining', item: PricedQuantity) => string = defaultDescription,
): ProrationLine[] {
  const lines: ProrationLine[] = [];
  const afterById = new Map(after.map((item) => [item.itemId, item]));
  const beforeById = new Map(before.map((item) => [item.itemId, item]));
  for (const old of before) {
    const next = afterById.get(old.itemId);
    if (next && next.priceId === old.priceId && next.quantity === old.quantity) continue;
    // A quantity change on the same price still credits the old quantity and debits the new one.
    lines.push({
      itemId: old.itemId,
      priceId: old.priceId,
      quantity: old.quantity,
      amount: -prorateRemaining(old.unitAmount, old.quantity, periodStart, periodEnd, at),
      periodStart: at,
      periodEnd,
      description: describe('unused', old),
    });
  }
  for (const next of after) {
    const old = beforeById.get(next.itemId);
    if (old && old.priceId === next.priceId && old.quantity === next.quantity) continue;
    lines.push({
      itemId: next.itemId,
      priceId: next.priceId,
      quantity: next.quantity,
      amount: prorateRemaining(next.unitAmount, next.quantity, periodStart, periodEnd, at),
      periodStart: at,
      periodEnd,
      description: describe('remaining', next),
    });
  }
  return lines;
}

function defaultDescription(kind: 'unused' | 'remaining', item: PricedQuantity): string {
  return kind === 'unused'
    ? `Unused time on ${item.quantity} × ${item.priceId}`
    : `Remaining time on ${item.quantity} × ${item.priceId}`;
}
