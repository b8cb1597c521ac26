import { Injectable } from '@nestjs/common';
import type { PaymentRefundLine, PaymentRefundLines } from '../../payments/contracts/payment-refund-lines.js';
import { RefundsFacade } from '../refunds.facade.js';

/** The refunds a payment's detail lists (the payments module's query contract, provided here). */
@Injectable()
export class RefundLinesForPayments implements PaymentRefundLines {
  constructor(private readonly refunds: RefundsFacade) {}

  async forPayment(paymentId: string): Promise<PaymentRefundLine[]> {
    return (await this.refunds.listForPayment(paymentId)).map((r) => ({
      id: r.id,
      amount: r.amount,
      currency: r.currency,
      status: r.status,
      reason: r.reason,
      note: r.note,
      createdAt: r.createdAt,
    }));
  }
}
