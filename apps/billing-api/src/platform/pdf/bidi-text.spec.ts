import { describe, expect, it } from '@jest/globals';
import PDFDocument from 'pdfkit';
import { pdfText } from '../../../../../test/support/pdf-text.js';
import { isolate } from '../text/bidi-isolation.js';
import { shaperReverses, visualRuns, writeBidiLine, type VisualRun } from './bidi-text.js';
import { PdfFont } from './pdf-font.js';

const ltr = (text: string): VisualRun => ({ text, rightToLeft: false });
const rtl = (text: string): VisualRun => ({ text, rightToLeft: true });

/** The lines drawn through writeBidiLine, as the PDF's text holds them: glyphs from left to right. */
async function drawn(lines: [string, ('ltr' | 'rtl' | 'auto')?][]): Promise<string[]> {
  const pdf = new PDFDocument({ compress: false });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve) => {
    pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
  });
  pdf.registerFont('f', PdfFont.load().source);
  pdf.font('f');
  for (const [line, direction] of lines) writeBidiLine(pdf, line, direction);
  pdf.end();
  return pdfText(await done).split('\n');
}

describe('visualRuns: a line cut into runs of one direction, in visual order (UAX #9)', () => {
  it.each<[string, string, 'ltr' | 'rtl' | 'auto', VisualRun[]]>([
    ['left to right only', 'Receipt #42', 'auto', [ltr('Receipt #42')]],
    ['a Hebrew line is one run, in logical order', 'תל אביב', 'auto', [rtl('תל אביב')]],
    // In a right-to-left paragraph the number sits left of the word that precedes it logically.
    ['a number inside Hebrew', 'רחוב 12 תל אביב', 'auto', [rtl(' תל אביב'), ltr('12'), rtl('רחוב ')]],
    [
      'an isolated Hebrew name inside an English line keeps the label and the address around it',
      `Billed to: ${isolate('תל אביב')} <x@example.test>`,
      'ltr',
      [ltr('Billed to: '), rtl('תל אביב'), ltr(' <x@example.test>')],
    ],
    [
      'without the isolate, a number after Hebrew joins its right-to-left reading',
      'Total: שקל 12 today',
      'ltr',
      [ltr('Total: '), ltr('12'), rtl('שקל '), ltr(' today')],
    ],
    ['brackets inside right-to-left text are mirrored', '(שלום)', 'rtl', [rtl(')שלום(')]],
    [
      "Intl's Hebrew amount (RLM marks) reads with the sign on the left; the marks are dropped",
      `Amount: ${isolate('\u200f1,234.50\u00a0\u200f₪')}`,
      'ltr',
      [ltr('Amount: '), rtl('\u00a0₪'), ltr('1,234.50')],
    ],
    ['trailing spaces take the paragraph direction', 'שלום  ', 'ltr', [rtl('שלום'), ltr('  ')]],
    ['an empty line has no runs', '', 'auto', []],
  ])('%s', (_name, line, direction, expected) => {
    expect(visualRuns(line, direction)).toEqual(expected);
  });
});

describe('shaperReverses: whether fontkit sets a run right to left (by its first scripted character)', () => {
  it.each<[string, boolean]>([
    ['שלום', true],
    ['مرحبا', true],
    ['٢٠٢٦', true], // Arabic-Indic digits are in the Arabic script
    ['12 שקל', true], // digits are Common: the first letter decides
    [' ) ', false],
    ['Acme', false],
    ['', false],
  ])('%j -> %s', (text, expected) => {
    expect(shaperReverses(text)).toBe(expected);
  });
});

describe('writeBidiLine: the PDF holds the glyphs of each line in visual order', () => {
  it('sets Hebrew words, numbers and English labels as a reader expects them', async () => {
    const lines = await drawn([
      ['תל אביב', 'auto'],
      ['רחוב הרצל 12', 'auto'],
      [`Billed to: ${isolate('שלום עולם')} <x@example.test>`, 'ltr'],
      [`Amount paid: ${isolate('\u200f1,234.50\u00a0\u200f₪')}`, 'ltr'],
    ]);
    expect(lines).toEqual([
      // Left to right on the page: the last word of the name first, each word's letters reversed.
      'ביבא לת',
      '12 לצרה בוחר',
      'Billed to: םלוע םולש <x@example.test>',
      'Amount paid: ₪\u00a01,234.50',
    ]);
  });

  it('keeps Arabic shaped (joined forms) and Arabic-Indic numbers in their order', async () => {
    const lines = await drawn([
      ['مرحبا بالعالم', 'auto'],
      [`Date: ${isolate('٣ ديسمبر ٢٠٢٦')}`, 'ltr'],
    ]);
    // The extracted text maps each joined glyph back to its letter; digits read left to right.
    expect(lines).toEqual(['ملاعلاب ابحرم', 'Date: ٢٠٢٦ ربمسيد ٣']);
  });
});
