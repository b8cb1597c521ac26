import { describe, expect, it } from '@jest/globals';
import { statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pdfText } from '../../../../../test/support/pdf-text.js';
import { PdfFont } from '../../platform/pdf/pdf-font.js';
import type { ReceiptView } from './contracts/receipt.view.js';
import { type ReceiptDocument, renderReceiptPdf } from './receipt-pdf.js';

/** Intl's no-break spaces (U+00A0, U+202F) as plain ones. */
const plain = (s: string): string => s.replace(/[\u00a0\u202f]/gu, ' ');

function receiptDoc(over: {
  amount: number;
  currency: string;
  locale: string;
  timeZone?: string;
  merchant?: { name: string; address: string[] };
  customerName?: string;
  description?: string | null;
}): ReceiptDocument {
  const receipt: ReceiptView = {
    id: '6d2f1f1e-9a53-4a0e-8d55-0d1b6a6f0a01',
    accountId: '6d2f1f1e-9a53-4a0e-8d55-0d1b6a6f0a02',
    paymentId: '6d2f1f1e-9a53-4a0e-8d55-0d1b6a6f0a03',
    number: 42,
    amount: over.amount,
    currency: over.currency,
    issuedAt: '2026-12-03T10:15:00.000Z',
    methodBrand: 'visa',
    methodLast4: '4242',
    merchant: null,
  };
  return {
    receipt,
    merchant: over.merchant ?? { name: 'Acme', address: [] },
    customer: { name: over.customerName ?? 'Customer', email: 'billing@example.test' },
    locale: over.locale,
    timeZone: over.timeZone ?? 'UTC',
    description: over.description ?? null,
    refunds: [],
  };
}

const font = PdfFont.load();
const render = async (doc: ReceiptDocument) => {
  const { pdf, missing } = await renderReceiptPdf(doc, font);
  return { text: plain(pdfText(pdf)), missing, pdf };
};

describe('receipt PDF: set in an embedded Unicode font, exactly as Intl formats amounts and dates', () => {
  it.each([
    // Currency signs and letters outside Windows-1252, which pdfkit's built-in fonts printed as garbage.
    ['rub', 123456, 'ru-RU', 'Europe/Moscow', '1 234,56 ₽', '3 декабря 2026 г. в 13:15 GMT+3'],
    ['inr', 123456, 'en-IN', 'Asia/Kolkata', '₹1,234.56', '3 December 2026 at 03:45 pm IST'],
    ['pln', 123456, 'pl-PL', 'Europe/Warsaw', '1234,56 zł', '3 grudnia 2026 11:15'],
    ['uah', 5000, 'uk-UA', 'Europe/Kyiv', '50,00 ₴', '3 грудня 2026 р. о 12:15'],
    ['try', 99900, 'tr-TR', 'Europe/Istanbul', '₺999,00', '3 Aralık 2026 13:15'],
    ['eur', 123456, 'fr-FR', 'Europe/Paris', '1 234,56 €', '3 décembre 2026 à 11:15'],
    ['usd', 1000, 'en-US', 'America/New_York', '$10.00', 'December 3, 2026 at 05:15 AM EST'],
  ])('%s %i in %s (%s): "%s" on "%s"', async (currency, amount, locale, timeZone, shown, date) => {
    const { text, missing } = await render(receiptDoc({ amount, currency, locale, timeZone }));
    expect(missing).toEqual([]);
    expect(text).toMatch(new RegExp(`^Amount paid: ${shown.replace(/[.$₹]/g, '\\$&')}$`, 'm'));
    expect(text).toContain(`Date: ${date}`);
    expect(text).toContain('Receipt #42');
    expect(text).toContain('Paid with: visa ending in 4242');
    expect(text).not.toContain('\uFFFD');
  });

  it('shows merchants and customers in Greek, Cyrillic and Latin scripts as they are written', async () => {
    const { text, missing } = await render(
      receiptDoc({
        amount: 2500,
        currency: 'eur',
        locale: 'el-GR',
        merchant: { name: 'ООО «Ромашка»', address: ['ul. Łąkowa 3', 'Αθήνα'] },
        customerName: 'Δημήτρης Παπαδόπουλος',
        // "ff" and "fi" become ligature glyphs (one glyph, two letters in the text a reader copies).
        description: 'Jahresabo – Größe L, Staff offsite',
      }),
    );
    expect(missing).toEqual([]);
    expect(text).toMatch(/^ООО «Ромашка»\nul\. Łąkowa 3\nΑθήνα\nReceipt #42$/m);
    expect(text).toContain('Billed to: Δημήτρης Παπαδόπουλος <billing@example.test>');
    expect(text).toContain('Description: Jahresabo – Größe L, Staff offsite');
    expect(text).toMatch(/^Amount paid: 25,00 €$/m);
  });

  it('prints a Japanese amount with the ¥ the font has for the fullwidth ￥ Intl gives', async () => {
    expect(plain(new Intl.NumberFormat('ja-JP', { style: 'currency', currency: 'JPY' }).format(1000))).toBe(
      '￥1,000',
    );
    const { text, missing } = await render(receiptDoc({ amount: 1000, currency: 'jpy', locale: 'ja-JP' }));
    expect(text).toMatch(/^Amount paid: ¥1,000$/m);
    // A Japanese date needs a font with the script (RECEIPT_FONT_PATH): reported, not printed as garbage.
    expect(text).toContain('Date: 2026?12?3? 10:15 UTC');
    expect(missing).toEqual(['年', '月', '日']);
  });

  it('sets Hebrew and Arabic in their reading order, numbers and English labels included', async () => {
    const hebrew = await render(
      receiptDoc({
        amount: 123450,
        currency: 'ils',
        locale: 'he-IL',
        timeZone: 'Asia/Jerusalem',
        merchant: { name: 'אקמה בע"מ', address: ['רחוב הרצל 12', 'תל אביב'] },
        customerName: 'דנה לוי',
      }),
    );
    expect(hebrew.missing).toEqual([]);
    // The PDF's text runs left to right on the page: right-to-left words come last word first.
    expect(hebrew.text.split('\n').slice(0, 3)).toEqual(['מ"עב המקא', '12 לצרה בוחר', 'ביבא לת']);
    expect(hebrew.text).toContain('Billed to: יול הנד <billing@example.test>');
    expect(hebrew.text).toContain('Date: GMT+2 12:15 העשב 2026 רבמצדב 3');
    expect(hebrew.text).toMatch(/^Amount paid: ₪ 1,234\.50$/m);

    const arabic = await render(
      receiptDoc({
        amount: 123450,
        currency: 'egp',
        locale: 'ar-EG',
        timeZone: 'Africa/Cairo',
        customerName: 'شركة أكمي',
      }),
    );
    expect(arabic.missing).toEqual([]);
    expect(arabic.text).toContain('Billed to: يمكأ ةكرش <billing@example.test>');
    expect(arabic.text).toMatch(/^Amount paid: .م.ج ١٬٢٣٤٫٥٠$/m);
  });

  it('prints what the font lacks as ? and reports each such character once; the rest stays right', async () => {
    const { text, missing } = await render(
      receiptDoc({
        amount: 1000,
        currency: 'usd',
        locale: 'en-US',
        customerName: '株式会社 Acme',
        description: '会社',
      }),
    );
    expect(missing).toEqual(['株', '式', '会', '社']);
    expect(text).toContain('Billed to: ???? Acme <billing@example.test>');
    expect(text).toContain('Description: ??');
    expect(text).toMatch(/^Amount paid: \$10\.00$/m);
  });

  it('renders concurrent receipts from the one parsed font, each with its own glyphs', async () => {
    const names = ['Ωmega', 'Жук', 'Łódź', 'Zoë', 'Ærø', 'Ğü', 'Ђура', 'Ψ', 'Ñandú', 'Škoda'];
    const texts = await Promise.all(
      names.map((name, i) =>
        render(receiptDoc({ amount: 100 + i, currency: 'eur', locale: 'de-DE', customerName: name })),
      ),
    );
    texts.forEach(({ text, missing }, i) => {
      expect(missing).toEqual([]);
      expect(text).toContain(`Billed to: ${names[i]} <billing@example.test>`);
      expect(text).toMatch(new RegExp(`^Amount paid: 1,${String(i).padStart(2, '0')} €$`, 'm'));
    });
  });

  it('embeds only the glyphs it uses (a subset, not the whole font file)', async () => {
    const { pdf } = await render(receiptDoc({ amount: 1000, currency: 'usd', locale: 'en-US' }));
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.toString('latin1')).toMatch(/\/FontName \/[A-Z]{6}\+DejaVuSans/);
    expect(pdf.length).toBeLessThan(statSync(font.path).size / 10);
  });
});

describe('PdfFont', () => {
  it('refuses what cannot set a receipt, saying why', () => {
    expect(() => PdfFont.load('/nonexistent/receipt-font.ttf')).toThrow(/cannot read .*ENOENT/);
    const notAFont = join(tmpdir(), `not-a-font-${process.pid}.ttf`);
    writeFileSync(notAFont, 'this is text, not a font');
    expect(() => PdfFont.load(notAFont)).toThrow(/is not a TrueType or OpenType font/);
  });

  it('keeps line breaks and maps compatibility characters only when the font lacks the original', () => {
    expect(font.printable('Acme\nBerlin')).toEqual({ text: 'Acme\nBerlin', missing: [] });
    expect(font.printable('￥5 ₩7')).toEqual({ text: '¥5 ₩7', missing: [] });
    expect(font.printable('a🏢b')).toEqual({ text: 'a?b', missing: ['🏢'] });
  });
});
