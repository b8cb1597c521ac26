import { Controller, Get, Header, Logger, Param, Query, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../../../platform/auth/auth.decorators.js';
import { accountInScope, type Principal } from '../../../platform/auth/principal.js';
import { AppConfig } from '../../../platform/config/app-config.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { PdfFont } from '../../../platform/pdf/pdf-font.js';
import { AccountsFacade } from '../../accounts/accounts.facade.js';
import type { InvoiceReceiptView } from '../../receipts/contracts/receipt.view.js';
import { ReceiptsFacade } from '../../receipts/receipts.facade.js';
import { renderInvoicePdf } from '../invoice-pdf.js';
import { InvoiceQueries, type ReadInvoice } from '../queries/invoice.queries.js';
import { InvoiceDto, InvoiceListDto, ListInvoicesQueryDto } from './dto/invoice.dto.js';
import { toCreditBalanceDto, toInvoiceDto } from './dto/invoice.mapper.js';

const ID_PARAM = {
  name: 'id',
  description:
    "The mirror's id (uuid) or Stripe's (`in_…`); an invoice older than two years only by Stripe's.",
  example: 'in_1QxYz',
};

/**
 * Invoices (R-SUB-7): the list of the last two years from the mirror with the customer's credit
 * balance, one invoice (older ones read from Stripe on demand) and its PDF. Owners see their own account;
 * finance, support and admin any (the list by `accountId`); members are refused (403) as for payments;
 * another account's invoice is 404.
 */
@ApiTags('invoices')
@ApiBearerAuth()
@Controller('v1/invoices')
@Roles('owner', 'finance', 'support', 'admin')
export class InvoicesController {
  private readonly logger = new Logger('Invoices');

  constructor(
    private readonly queries: InvoiceQueries,
    private readonly accounts: AccountsFacade,
    private readonly receipts: ReceiptsFacade,
    private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({
    summary:
      "The account's invoices of the last two years, newest first, in cursor pages (limit 1-100, default 20), filtered by status and creation time, with the customer's credit balance. Owners see their own account; internal roles pass `accountId`.",
  })
  @ApiOkResponse({ type: InvoiceListDto })
  @ApiErrors('validation_failed', 'forbidden', 'not_found')
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListInvoicesQueryDto,
  ): Promise<InvoiceListDto> {
    const accountId = accountInScope(principal, query.accountId);
    const account = await this.accounts.getAccount(accountId);
    const [page, balance, currency] = await Promise.all([
      this.queries.list(accountId, query),
      this.accounts.stripeCustomerBalance(accountId),
      this.queries.latestCurrency(accountId),
    ]);
    const receipts = await this.receipts.forInvoices(
      page.data.flatMap((invoice) => (invoice.id ? [invoice.id] : [])),
    );
    return {
      data: page.data.map((invoice) =>
        toInvoiceDto(invoice, invoice.id ? (receipts.get(invoice.id) ?? null) : null, account.locale),
      ),
      has_more: page.has_more,
      next_cursor: page.next_cursor,
      creditBalance: toCreditBalanceDto(balance?.balance ?? 0, currency, account.locale),
    };
  }

  @Get(':id.pdf')
  @Header('content-type', 'application/pdf')
  @ApiOperation({
    summary:
      "The invoice as PDF, in the receipts' look: number, date and period in the account's time zone, amounts for its locale, its receipt number once paid.",
  })
  @ApiParam(ID_PARAM)
  @ApiProduces('application/pdf')
  @ApiOkResponse({ description: 'The invoice as PDF.', schema: { type: 'string', format: 'binary' } })
  @ApiErrors(
    'forbidden',
    'not_found',
    'payment_provider_unavailable',
    'payment_provider_rate_limited',
    'payment_provider_error',
  )
  async pdf(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<StreamableFile> {
    const invoice = await this.queries.find(principal, id);
    const [account, receipt] = await Promise.all([
      this.accounts.getAccount(invoice.accountId),
      this.receiptOf(invoice),
    ]);
    // Loaded and checked at start-up (validateEnvironment); read once per process.
    const font = PdfFont.load(this.config.receipts.fontPath);
    const { pdf: body, missing } = await renderInvoicePdf(
      {
        invoice: toInvoiceDto(invoice, null, account.locale),
        receiptNumber: receipt?.number ?? null,
        merchant: receipt?.merchant ?? {
          name: this.config.merchant.name,
          address: [...this.config.merchant.address],
        },
        customer: { name: account.name, email: account.billingEmail },
        locale: account.locale,
        timeZone: account.timeZone,
      },
      font,
    );
    if (missing.length > 0) {
      this.logger.warn({
        msg: 'invoice PDF shows characters its font lacks as ?; set RECEIPT_FONT_PATH to a font that has them',
        alert: 'receipt_font_missing_glyphs',
        stripeInvoiceId: invoice.stripeInvoiceId,
        font: font.name,
        missing: missing.map(
          (c) => `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`,
        ),
      });
    }
    return new StreamableFile(body, {
      type: 'application/pdf',
      disposition: `inline; filename="invoice-${invoice.number ?? invoice.stripeInvoiceId}.pdf"`,
      length: body.length,
    });
  }

  @Get(':id')
  @ApiOperation({
    summary:
      'One invoice by our id or Stripe’s: from the mirror when it is from the last two years, else read from Stripe on demand (not stored). Another account’s: 404.',
  })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: InvoiceDto })
  @ApiErrors(
    'forbidden',
    'not_found',
    'payment_provider_unavailable',
    'payment_provider_rate_limited',
    'payment_provider_error',
  )
  async detail(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<InvoiceDto> {
    const invoice = await this.queries.find(principal, id);
    const [account, receipt] = await Promise.all([
      this.accounts.getAccount(invoice.accountId),
      this.receiptOf(invoice),
    ]);
    return toInvoiceDto(invoice, receipt, account.locale);
  }

  private async receiptOf(invoice: ReadInvoice): Promise<InvoiceReceiptView | null> {
    if (!invoice.id) return null;
    return (await this.receipts.forInvoices([invoice.id])).get(invoice.id) ?? null;
  }
}
