import PDFDocument from 'pdfkit';
import { isolate } from '../text/bidi-isolation.js';
import { writeBidiLine } from './bidi-text.js';
import type { PdfFont } from './pdf-font.js';

/** What a document's layout writes with (see {@link renderPdfDocument}). */
export interface PdfWriter {
  readonly pdf: PDFKit.PDFDocument;
  /** The text as the font can show it; a character it lacks becomes `?` and is reported once. */
  readonly show: (text: string) => string;
  /** A value shown and isolated from its (English) label, so that right-to-left text keeps its own order. */
  readonly value: (text: string) => string;
  /** One line through the bidirectional layout (UAX #9, platform/pdf/bidi-text.ts). */
  readonly line: (text: string, direction?: 'ltr' | 'auto') => void;
}

export interface RenderedPdf {
  pdf: Buffer;
  /** Characters of the document's text that the font could not show (printed as `?`), each once. */
  missing: string[];
}

/**
 * A one-column A4 document set in `font` (embedded, only the glyphs used), written by `layout`: the
 * frame the receipt and the invoice PDFs share. `compress: false` keeps the content streams readable
 * (tests extract the text).
 */
export async function renderPdfDocument(
  font: PdfFont,
  info: { title: string; author: string; createdAt: Date },
  layout: (w: PdfWriter) => void,
  options: { compress?: boolean } = {},
): Promise<RenderedPdf> {
  const missing = new Set<string>();
  const pdf = new PDFDocument({
    size: 'A4',
    margin: 56,
    compress: options.compress ?? true,
    info: { Title: info.title, Author: info.author, CreationDate: info.createdAt },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  pdf.registerFont('document', font.source);
  pdf.font('document');
  const show = (text: string): string => {
    const printable = font.printable(text);
    for (const char of printable.missing) missing.add(char);
    return printable.text;
  };
  layout({
    pdf,
    show,
    // Every value (name, address, date, amount) is isolated from its English label, so that Hebrew or
    // Arabic reads in its own order inside the line.
    value: (text) => isolate(show(text)),
    line: (text, direction = 'ltr') => writeBidiLine(pdf, text, direction),
  });
  pdf.end();
  return { pdf: await done, missing: [...missing] };
}

/**
 * The heading of the business's documents: the merchant's name and address lines in their own
 * direction, then the document's title (e.g. `Receipt #42`), then the body's font size.
 */
export function writeLetterhead(
  w: PdfWriter,
  merchant: { name: string; address: string[] },
  title: string,
): void {
  w.pdf.fontSize(20);
  w.line(w.show(merchant.name), 'auto');
  w.pdf.fontSize(10);
  for (const addressLine of merchant.address) w.line(w.show(addressLine), 'auto');
  w.pdf.moveDown(0.5).fontSize(14);
  w.line(title);
  w.pdf.moveDown().fontSize(11);
}
