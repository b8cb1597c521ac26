import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as fontkit from 'fontkit';
import { isDirectionalFormatting } from './bidi-text.js';

/**
 * The font documents are set in when RECEIPT_FONT_PATH is not given: DejaVu Sans (the npm package
 * `dejavu-fonts-ttf`, a free license), which covers Latin with its extensions, Greek, Cyrillic, Hebrew, Arabic and
 * the currency signs Intl prints (₹ ₽ ₩ ₪ ₺ ₴ ₦ ₱ ₫ ฿ ...), and the narrow no-break spaces of
 * French and other locales. pdfkit's built-in fonts encode only Windows-1252: `zł`, `₹` or a Cyrillic
 * month name came out as garbage. It has no Chinese, Japanese, Korean or Thai script: an operator whose
 * customers write in those points RECEIPT_FONT_PATH at a font that has them (e.g. a Noto Sans CJK .otf).
 */
export const DEFAULT_PDF_FONT_PATH = createRequire(import.meta.url).resolve(
  'dejavu-fonts-ttf/ttf/DejaVuSans.ttf',
);

/** What {@link PdfFont.printable} made of a text. */
export interface PrintableText {
  text: string;
  /** The characters neither the font nor their compatibility form (NFKC) could show, each once. */
  missing: string[];
}

/**
 * One TrueType or OpenType font file, read and parsed once, embedded (subset) into the PDFs pdfkit writes. It knows
 * which characters it can show, so that a document never prints a character as garbage or as an empty
 * box without anyone knowing: {@link printable} gives the text as the font can show it and what it could not.
 */
export class PdfFont {
  private static readonly cache = new Map<string, PdfFont>();

  private constructor(
    readonly path: string,
    private readonly font: fontkit.Font,
  ) {}

  /** The font at `path`, read and parsed once per process; throws an Error saying why it cannot be used. */
  static load(path: string = DEFAULT_PDF_FONT_PATH): PdfFont {
    const cached = PdfFont.cache.get(path);
    if (cached) return cached;
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch (error) {
      throw new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
        cause: error,
      });
    }
    let parsed: fontkit.Font | fontkit.FontCollection;
    try {
      parsed = fontkit.create(data);
    } catch (error) {
      throw new Error(`${path} is not a TrueType or OpenType font (${(error as Error).message})`, {
        cause: error,
      });
    }
    if ('fonts' in parsed) {
      throw new Error(`${path} is a font collection; give one .ttf or .otf font of it`);
    }
    if (!parsed.hasGlyphForCodePoint(0x30) || !parsed.hasGlyphForCodePoint(0x20)) {
      throw new Error(`${path} has no digits or no space: it cannot print an amount`);
    }
    const font = new PdfFont(path, parsed);
    PdfFont.cache.set(path, font);
    return font;
  }

  /**
   * The parsed font, for pdfkit's `registerFont`: pdfkit takes a fontkit font as well as a file's bytes
   * (its typings list only the latter, hence the cast). Parsed once per process instead of once per
   * document, it takes three quarters off a receipt's rendering time; each document still makes its
   * own subset of it.
   */
  get source(): Buffer {
    return this.font as unknown as Buffer;
  }

  /** The font's name, for messages. */
  get name(): string {
    return this.font.fullName || this.font.postscriptName || this.path;
  }

  /** Whether the font has a glyph for `char`. */
  has(char: string): boolean {
    const codePoint = char.codePointAt(0);
    return codePoint !== undefined && this.font.hasGlyphForCodePoint(codePoint);
  }

  /**
   * `text` as this font can show it. Line breaks stay (pdfkit breaks lines there, they are no glyphs), and
   * so do directional formatting characters such as the RLM in Intl's Hebrew amounts (the bidirectional
   * layout of {@link writeBidiLine} consumes them).
   * A character the font lacks becomes its compatibility form when the font has every character of that
   * (NFKC: the fullwidth ￥ of Japanese amounts becomes ¥, ﬁ becomes fi); otherwise U+FFFD's plain stand-in
   * `?`, and it is listed in `missing`.
   */
  printable(text: string): PrintableText {
    let out = '';
    const missing = new Set<string>();
    for (const char of text) {
      if (char === '\n' || isDirectionalFormatting(char) || this.has(char)) {
        out += char;
        continue;
      }
      const compatible = char.normalize('NFKC');
      if (compatible !== char && [...compatible].every((c) => this.has(c))) {
        out += compatible;
        continue;
      }
      out += '?';
      missing.add(char);
    }
    return { text: out, missing: [...missing] };
  }
}
