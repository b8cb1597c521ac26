import { inflateSync } from 'node:zlib';

interface PdfObject {
  dict: string;
  /** The stream's bytes, inflated when Flate-compressed; null for an object without a stream. */
  stream: Buffer | null;
}

/** The indirect objects of a PDF, by number (enough for the documents pdfkit writes). */
function objects(pdf: Buffer): Map<number, PdfObject> {
  const source = pdf.toString('latin1');
  const out = new Map<number, PdfObject>();
  const objRe = /(\d+) 0 obj\s*/g;
  let m: RegExpExecArray | null;
  while ((m = objRe.exec(source))) {
    const start = m.index + m[0].length;
    const end = source.indexOf('endobj', start);
    const body = source.slice(start, end);
    const streamAt = body.search(/stream\r?\n/);
    let stream: Buffer | null = null;
    let dict = body;
    if (streamAt >= 0) {
      dict = body.slice(0, streamAt);
      const dataStart = start + streamAt + (body.startsWith('stream\r\n', streamAt) ? 8 : 7);
      const dataEnd = source.indexOf('endstream', dataStart);
      stream = pdf.subarray(dataStart, dataEnd);
      if (/\/FlateDecode/.test(dict)) {
        try {
          stream = inflateSync(stream);
        } catch {
          stream = null;
        }
      }
    }
    out.set(Number(m[1]), { dict, stream });
    objRe.lastIndex = end;
  }
  return out;
}

const utf16be = new TextDecoder('utf-16be');
/** A CMap destination (`<0041>`, or `<0066 0066>` for a ligature's two letters) as text. */
const unicodeOf = (hex: string): string => utf16be.decode(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));

/** A ToUnicode CMap's code -> text table (bfchar entries, and bfrange entries in both of their forms). */
function toUnicode(cmap: string): Map<number, string> {
  const map = new Map<number, string>();
  for (const block of cmap.matchAll(/beginbfchar([^]*?)endbfchar/g)) {
    for (const [, code, text] of (block[1] ?? '').matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F\s]+)>/g)) {
      map.set(parseInt(code ?? '0', 16), unicodeOf(text ?? ''));
    }
  }
  for (const block of cmap.matchAll(/beginbfrange([^]*?)endbfrange/g)) {
    const rangeRe = /<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*(\[[^\]]*\]|<[0-9a-fA-F\s]+>)/g;
    for (const [, lo, hi, target] of (block[1] ?? '').matchAll(rangeRe)) {
      const from = parseInt(lo ?? '0', 16);
      const to = parseInt(hi ?? '0', 16);
      if (target?.startsWith('[')) {
        const texts = [...target.matchAll(/<([0-9a-fA-F\s]+)>/g)].map((t) => unicodeOf(t[1] ?? ''));
        texts.forEach((text, i) => map.set(from + i, text));
      } else {
        // <lo> <hi> <dst>: consecutive codes map to consecutive code points from dst.
        const first = (target ?? '<>').slice(1, -1);
        const base = unicodeOf(first).codePointAt(0) ?? 0;
        for (let code = from; code <= to; code++) map.set(code, String.fromCodePoint(base + code - from));
      }
    }
  }
  return map;
}

/**
 * The text a pdfkit document shows, one line per baseline: the text operators (`[<hex> kern <hex>] TJ`,
 * `<hex> Tj`) of consecutive text objects that start on the same baseline (pdfkit's `continued` text,
 * e.g. the runs of a bidirectional line) join into one line, in the order of the content streams, as
 * a PDF reader's copy-and-paste gives them. Text in an embedded font (two-byte glyph codes) is decoded
 * through the font's ToUnicode CMap; text in a standard font from WinAnsi.
 */
export function pdfText(pdf: Buffer): string {
  const all = objects(pdf);
  // Resource name (/F2) -> the font's code table; null for a standard font (one-byte WinAnsi codes).
  const fonts = new Map<string, Map<number, string> | null>();
  for (const { dict } of all.values()) {
    const resources = /\/Font\s*<<([^>]*)>>/.exec(dict);
    if (!resources) continue;
    for (const [, name, ref] of (resources[1] ?? '').matchAll(/\/(\w+)\s+(\d+)\s+0\s+R/g)) {
      const font = all.get(Number(ref));
      const cmapRef = font && /\/ToUnicode\s+(\d+)\s+0\s+R/.exec(font.dict);
      const cmap = cmapRef ? all.get(Number(cmapRef[1]))?.stream : null;
      fonts.set(name ?? '', cmap ? toUnicode(cmap.toString('latin1')) : null);
    }
  }
  const lines: string[] = [];
  for (const { dict, stream } of all.values()) {
    if (!stream || /\/Type\s*\/|\/Subtype|\/Length1/.test(dict)) continue; // fonts, images, metadata
    const text = stream.toString('latin1');
    let font: Map<number, string> | null = null;
    // The baseline of the text object being read (its first Tm), and of the line being built.
    let objectBaseline: string | null = null;
    let lineBaseline: string | null = null;
    let startsObject = false;
    const opRe = /\/(\w+)\s+[\d.]+\s+Tf|\[([^\]]*)\]\s*TJ|<([0-9a-fA-F]*)>\s*Tj|(-?[\d.]+)\s+Tm|\bBT\b/g;
    for (const op of text.matchAll(opRe)) {
      if (op[0] === 'BT') {
        startsObject = true;
        continue;
      }
      if (op[4] !== undefined) {
        if (startsObject) objectBaseline = op[4];
        startsObject = false;
        continue;
      }
      if (op[1] !== undefined) {
        font = fonts.get(op[1]) ?? null;
        continue;
      }
      const hexes =
        op[2] !== undefined ? [...op[2].matchAll(/<([0-9a-fA-F]*)>/g)].map((h) => h[1] ?? '') : [op[3] ?? ''];
      const codes = font;
      const shown = hexes
        .map((hex) => {
          if (!codes) return Buffer.from(hex, 'hex').toString('latin1').replace(/\x80/g, '€');
          let out = '';
          for (let i = 0; i + 4 <= hex.length; i += 4)
            out += codes.get(parseInt(hex.slice(i, i + 4), 16)) ?? '\uFFFD';
          return out;
        })
        .join('');
      if (lines.length > 0 && objectBaseline !== null && objectBaseline === lineBaseline) {
        lines[lines.length - 1] += shown;
      } else {
        lines.push(shown);
        lineBaseline = objectBaseline;
      }
    }
  }
  return lines.join('\n');
}
