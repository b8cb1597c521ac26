/** The hosted invoice page (`hosted_invoice_url`) and a small PDF at `invoice_pdf`. */
import type Stripe from 'stripe';
import type { EmulatorContext } from '../core/context.js';
import { resourceMissing } from '../http/errors.js';
import { HttpResponse, type PageRequest, html } from '../http/router.js';
import { escapeHtml, formatAmount, formatDate, page } from './html.js';

function findInvoice(ctx: EmulatorContext, req: PageRequest): Stripe.Invoice {
  const id = req.params.id ?? '';
  const owner = ctx.state.findOwner('invoices', id);
  if (!owner) throw resourceMissing('invoice', id);
  return owner.object;
}

export function renderInvoiceHtml(invoice: Stripe.Invoice): string {
  const rows = invoice.lines.data
    .map(
      (l) =>
        `<tr><td>${escapeHtml(l.description)}</td><td class="amount">${escapeHtml(formatAmount(l.amount, l.currency))}</td></tr>`,
    )
    .join('\n');
  return page(
    `Invoice ${invoice.number ?? invoice.id}`,
    `<h1>Invoice ${escapeHtml(invoice.number ?? invoice.id)}</h1>
<p>Status: <strong id="status">${escapeHtml(invoice.status)}</strong> · Created ${escapeHtml(formatDate(invoice.created))}</p>
<table><thead><tr><th>Description</th><th class="amount">Amount</th></tr></thead><tbody>
${rows}
</tbody></table>
<p>Subtotal ${escapeHtml(formatAmount(invoice.subtotal, invoice.currency))}<br>
Total ${escapeHtml(formatAmount(invoice.total, invoice.currency))}<br>
Applied balance ${escapeHtml(formatAmount(Math.min(0, invoice.starting_balance), invoice.currency))}<br>
Amount due <strong>${escapeHtml(formatAmount(invoice.amount_due, invoice.currency))}</strong><br>
Amount paid ${escapeHtml(formatAmount(invoice.amount_paid, invoice.currency))}</p>
<p><a href="${escapeHtml(invoice.invoice_pdf ?? '#')}">Download PDF</a></p>`,
  );
}

function pdfString(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').replace(/([\\()])/g, '\\$1');
}

/** A minimal one-page PDF 1.4 with the invoice's lines (Helvetica, no dependencies). */
export function renderInvoicePdf(invoice: Stripe.Invoice): string {
  const lines = [
    `Invoice ${invoice.number ?? invoice.id}`,
    `Status: ${invoice.status ?? ''}   Date: ${formatDate(invoice.created)}`,
    '',
    ...invoice.lines.data.map((l) => `${l.description ?? ''}   ${formatAmount(l.amount, l.currency)}`),
    '',
    `Total: ${formatAmount(invoice.total, invoice.currency)}`,
    `Amount due: ${formatAmount(invoice.amount_due, invoice.currency)}`,
    `Amount paid: ${formatAmount(invoice.amount_paid, invoice.currency)}`,
  ];
  const content = [
    'BT',
    '/F1 11 Tf',
    '50 760 Td',
    '14 TL',
    ...lines.map((l) => `(${pdfString(l)}) Tj T*`),
    'ET',
  ].join('\n');
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return out;
}

const registered = new WeakSet<EmulatorContext>();

export function registerInvoicePages(ctx: EmulatorContext): void {
  if (registered.has(ctx)) return;
  registered.add(ctx);
  ctx.pages.get('/_emulator/invoices/:id', (req) => html(renderInvoiceHtml(findInvoice(ctx, req))));
  ctx.pages.get('/_emulator/invoices/:id/pdf', (req) => {
    const invoice = findInvoice(ctx, req);
    return new HttpResponse(
      200,
      renderInvoicePdf(invoice),
      {
        'content-type': 'application/pdf',
        'content-disposition': `inline; filename="${invoice.number ?? invoice.id}.pdf"`,
      },
      true,
    );
  });
}
