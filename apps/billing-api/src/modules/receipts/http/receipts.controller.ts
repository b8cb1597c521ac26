import { formatMoney, money } from '@billing/domain';
import { Controller, Get, Header, Logger, Param, ParseUUIDPipe, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags, ApiParam } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../../../platform/auth/auth.decorators.js';
import { assertAccountAccess, type Principal } from '../../../platform/auth/principal.js';
import { AppConfig } from '../../../platform/config/app-config.js';
import { ApiError } from '../../../platform/http/api-error.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { PdfFont } from '../../../platform/pdf/pdf-font.js';
import { AccountsFacade } from '../../accounts/accounts.facade.js';
import { PaymentsFacade } from '../../payments/payments.facade.js';
import { RefundsFacade } from '../../refunds/refunds.facade.js';
import type { ReceiptMerchant, ReceiptView } from '../contracts/receipt.view.js';
import { renderReceiptPdf } from '../receipt-pdf.js';
import { ReceiptsFacade } from '../receipts.facade.js';
import { ReceiptDto } from './dto/receipt.dto.js';

/** Receipts of payments (R-PAY-4): JSON and PDF. Owners see their own; internal roles any; others 404. */
@ApiTags('receipts')
@ApiBearerAuth()
@Controller('v1/payments/:paymentId')
export class ReceiptsController {
  private readonly logger = new Logger('Receipts');

  constructor(
    private readonly receipts: ReceiptsFacade,
    private readonly payments: PaymentsFacade,
    private readonly refunds: RefundsFacade,
    private readonly accounts: AccountsFacade,
    private readonly config: AppConfig,
  ) {}

  @Get('receipt')
  @ApiParam({
    name: 'paymentId',
    format: 'uuid',
    description: 'A UUID (anything else is a 400 validation_failed).',
  })
  @Roles('owner', 'finance', 'support', 'admin')
  @ApiOperation({
    summary:
      "A succeeded payment's receipt: its gap-free number per account, amount, date, method, merchant.",
  })
  @ApiOkResponse({ type: ReceiptDto })
  @ApiErrors('forbidden', 'not_found', 'validation_failed')
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('paymentId', new ParseUUIDPipe()) paymentId: string,
  ): Promise<ReceiptDto> {
    const receipt = await this.find(principal, paymentId);
    const account = await this.accounts.getAccount(receipt.accountId);
    return {
      ...receipt,
      formattedAmount: formatMoney(money(receipt.amount, receipt.currency), account.locale),
      merchant: this.merchant(receipt),
    };
  }

  @Get('receipt.pdf')
  @ApiParam({
    name: 'paymentId',
    format: 'uuid',
    description: 'A UUID (anything else is a 400 validation_failed).',
  })
  @Roles('owner', 'finance', 'support', 'admin')
  @Header('content-type', 'application/pdf')
  @ApiOperation({
    summary: "A succeeded payment's receipt as PDF (localized amount and date, refunds listed).",
  })
  @ApiProduces('application/pdf')
  @ApiOkResponse({ description: 'The receipt as PDF.', schema: { type: 'string', format: 'binary' } })
  @ApiErrors('forbidden', 'not_found', 'validation_failed')
  async pdf(
    @CurrentPrincipal() principal: Principal,
    @Param('paymentId', new ParseUUIDPipe()) paymentId: string,
  ): Promise<StreamableFile> {
    const receipt = await this.find(principal, paymentId);
    const [account, payment, refunds] = await Promise.all([
      this.accounts.getAccount(receipt.accountId),
      this.payments.getPayment(paymentId),
      this.refunds.listForPayment(paymentId),
    ]);
    // Loaded and checked at start-up (validateEnvironment); read once per process.
    const font = PdfFont.load(this.config.receipts.fontPath);
    const { pdf: body, missing } = await renderReceiptPdf(
      {
        receipt,
        merchant: this.merchant(receipt),
        customer: { name: account.name, email: account.billingEmail },
        locale: account.locale,
        timeZone: account.timeZone,
        description: payment?.description ?? null,
        refunds: refunds
          .filter((r) => r.status === 'succeeded' || r.status === 'pending')
          .map((r) => ({ amount: r.amount, currency: r.currency, status: r.status, createdAt: r.createdAt })),
      },
      font,
    );
    if (missing.length > 0) {
      // The customer's own text (account name, description) in a script the font lacks: shown as `?`.
      this.logger.warn({
        msg: 'receipt PDF shows characters its font lacks as ?; set RECEIPT_FONT_PATH to a font that has them',
        alert: 'receipt_font_missing_glyphs',
        receiptId: receipt.id,
        font: font.name,
        missing: missing.map(
          (c) => `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`,
        ),
      });
    }
    return new StreamableFile(body, {
      type: 'application/pdf',
      disposition: `inline; filename="receipt-${receipt.number}.pdf"`,
      length: body.length,
    });
  }

  /**
   * The merchant the receipt was issued by; the configured one for receipts issued before it was kept on
   * them. A copy per response, so that nothing downstream can change the configuration's array.
   */
  private merchant(receipt: ReceiptView): ReceiptMerchant {
    const merchant = receipt.merchant ?? this.config.merchant;
    return { name: merchant.name, address: [...merchant.address] };
  }

  private async find(principal: Principal, paymentId: string): Promise<ReceiptView> {
    const receipt = await this.receipts.forPayment(paymentId);
    if (!receipt) throw new ApiError('not_found', 'This payment has no receipt.');
    assertAccountAccess(principal, receipt.accountId);
    return receipt;
  }
}
