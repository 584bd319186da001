/**
 * Many distinct text lines for OCR jobs, each rendered as a PNG (render.ts), with a known text:
 * words and numbers the PP-OCRv4 recogniser reads back exactly (no 0/O or 1/l look-alikes).
 */
import { renderTextLine } from './render.ts';

const WORDS = ['Invoice', 'Garden', 'Harbour', 'Market', 'Station', 'Village', 'Bridge', 'Summer', 'Winter', 'Orange', 'Purple', 'Silver', 'Window', 'Rocket', 'Paper', 'Coffee'];

export function ocrLineTexts(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${WORDS[i % WORDS.length]} ${WORDS[(i * 7 + 3) % WORDS.length]!.toLowerCase()} ${2000 + i * 3}`);
}

/** The lines as base64 PNGs, in order. */
export async function renderOcrLines(texts: readonly string[]): Promise<string[]> {
  const images: string[] = [];
  // A few at a time: sharp runs on libuv's threads, and the server under test needs the cores too.
  for (let i = 0; i < texts.length; i += 8) {
    const batch = await Promise.all(texts.slice(i, i + 8).map((text) => renderTextLine(text)));
    for (const png of batch) images.push(Buffer.from(png).toString('base64'));
  }
  return images;
}
