import { createRequire } from 'node:module';
import type { Bidi } from 'bidi-js';
import { EXPLICIT_CONTROL_RANGES, RIGHT_TO_LEFT_SCRIPT } from '../text/bidi-isolation.js';

/**
 * Bidirectional text for PDFs. pdfkit draws the glyphs of a line left to right and has no
 * bidirectional layout. Its text shaping (fontkit) reverses a run whose first letter is in a
 * right-to-left script, and it shapes Arabic into its joined forms, but it does this per word. So
 * "תל אביב" came out as "אביב תל", and a number inside Hebrew text was reversed with it.
 *
 * The Unicode Bidirectional Algorithm (UAX #9, from the `bidi-js` package, conformant to UAX-C1)
 * gives every character of a line its embedding level. {@link visualRuns} cuts the line into runs of
 * one level and puts the runs in visual order (rule L2). {@link writeBidiLine} draws each run as one
 * piece of text, so the shaper sees whole runs, never single words. A right-to-left run keeps its
 * logical order, because the shaper reverses it and needs that order to join Arabic letters.
 * Where the shaper would not reverse a right-to-left run (it holds only neutrals such as spaces or
 * brackets), or would reverse a left-to-right run (Arabic-Indic digits are in the Arabic script),
 * the run is reversed first, so that every run ends up in the order UAX #9 gives it.
 */
// bidi-js is a CommonJS module whose typings declare an ES default export; required, it is the factory.
const bidiFactory = createRequire(import.meta.url)('bidi-js') as () => Bidi;
const bidi = bidiFactory();

/**
 * Explicit directional formatting characters (ALM, LRM, RLM, embeddings, overrides, isolates): they
 * steer the algorithm and have no glyph. Intl puts RLM and ALM into Hebrew and Arabic amounts.
 */
const FORMATTING = `\\u061c\\u200e\\u200f${EXPLICIT_CONTROL_RANGES}`;
const FORMATTING_ALL = new RegExp(`[${FORMATTING}]`, 'gu');
const FORMATTING_ONE = new RegExp(`^[${FORMATTING}]$`, 'u');

/** The first character that belongs to a script of its own (not Common or Inherited), as fontkit picks a run's script. */
const SCRIPTED = /[^\p{Script=Common}\p{Script=Inherited}\p{Script=Unknown}]/u;

/** Whether the character is a directional formatting character (no glyph; consumed by the layout). */
export const isDirectionalFormatting = (char: string): boolean => FORMATTING_ONE.test(char);

/** One piece of a line, in visual order (left to right on the page). */
export interface VisualRun {
  /** The run's characters in logical order, with right-to-left brackets mirrored and formatting characters removed. */
  text: string;
  /** Whether the run reads right to left (odd embedding level). */
  rightToLeft: boolean;
}

/**
 * The runs of one line (no line breaks) in the order they appear from left to right, per UAX #9
 * for a paragraph of `direction` ('auto': the first strong character's). Characters are never
 * reordered within a run here (see {@link writeBidiLine}).
 */
export function visualRuns(line: string, direction: 'ltr' | 'rtl' | 'auto' = 'auto'): VisualRun[] {
  if (line.length === 0) return [];
  const embedding = bidi.getEmbeddingLevels(line, direction === 'auto' ? undefined : direction);
  const levels = Array.from(embedding.levels);
  const baseLevel = embedding.paragraphs[0]?.level ?? 0;
  // L1: whitespace and formatting characters at the end of the line take the paragraph's level.
  for (let i = line.length - 1; i >= 0; i--) {
    const char = line.charAt(i);
    if (!/\s/u.test(char) && !isDirectionalFormatting(char)) break;
    levels[i] = baseLevel;
  }
  const mirrored = bidi.getMirroredCharactersMap(line, Uint8Array.from(levels));

  // Runs of one level, in logical order.
  const runs: { level: number; text: string }[] = [];
  for (let i = 0; i < line.length; i++) {
    const level = levels[i] as number;
    const char = mirrored.get(i) ?? line.charAt(i);
    const last = runs[runs.length - 1];
    if (last && last.level === level) last.text += char;
    else runs.push({ level, text: char });
  }

  // L2: from the highest level down to the lowest odd one, reverse every sequence of runs at that level or higher.
  const highest = Math.max(...runs.map((r) => r.level));
  const lowest = Math.min(...runs.map((r) => r.level));
  for (let level = highest; level >= (lowest % 2 === 1 ? lowest : lowest + 1); level--) {
    for (let start = 0; start < runs.length;) {
      if ((runs[start] as { level: number }).level < level) {
        start++;
        continue;
      }
      let end = start;
      while (end + 1 < runs.length && (runs[end + 1] as { level: number }).level >= level) end++;
      const reversed = runs.slice(start, end + 1).reverse();
      runs.splice(start, reversed.length, ...reversed);
      start = end + 1;
    }
  }

  return runs
    .map((run) => ({ text: run.text.replace(FORMATTING_ALL, ''), rightToLeft: run.level % 2 === 1 }))
    .filter((run) => run.text.length > 0);
}

/** Whether fontkit, shaping `text` as one run, sets it right to left (its first scripted character's script). */
export function shaperReverses(text: string): boolean {
  const first = SCRIPTED.exec(text)?.[0];
  return first !== undefined && RIGHT_TO_LEFT_SCRIPT.test(first);
}

/** The parts of a pdfkit document {@link writeBidiLine} uses. */
export interface PdfTextSink {
  text(text: string, options?: { continued?: boolean; features?: string[] }): unknown;
}

/**
 * Draws one line of mixed-direction text at the document's cursor, then moves to the next line.
 * Each visual run is drawn as one piece (`features: []` makes pdfkit shape the piece as a whole,
 * not word by word). A run the shaper would set in the wrong direction is reversed first.
 */
export function writeBidiLine(
  doc: PdfTextSink,
  line: string,
  direction: 'ltr' | 'rtl' | 'auto' = 'auto',
): void {
  const runs = visualRuns(line, direction);
  if (runs.length === 0) {
    doc.text(' ');
    return;
  }
  runs.forEach((run, i) => {
    const text = run.rightToLeft === shaperReverses(run.text) ? run.text : [...run.text].reverse().join('');
    doc.text(text, { continued: i < runs.length - 1, features: [] });
  });
}
