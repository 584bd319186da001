// The rendered-digit suite: digits 0-9 printed in the machine's fonts and drawn with a pen, at
// several sizes, positions and slants, each encoded as the PNG (or JPEG) a user would upload.
// evaluate.ts measures the model on it through decodeImage -> toMnistTensor -> ORT.

import { EVAL_FONTS, drawDigitPng, renderDigitPng, type FontOptions, type PenOptions, type RenderOptions } from './render.ts';

export interface RenderedDigit {
  digit: number;
  /** e.g. "font DejaVu Serif bold, small off-centre". */
  description: string;
  kind: 'font' | 'pen';
  bytes: Buffer;
}

/** Placements of each printed digit on its canvas. */
export const FONT_VARIANTS: readonly { name: string; options: RenderOptions }[] = [
  { name: 'centred', options: {} },
  { name: 'small off-centre', options: { height: 50, dx: -50, dy: 40 } },
  { name: 'rotated 10deg', options: { height: 120, rotate: 10 } },
  { name: 'large JPEG', options: { size: 600, height: 400, dx: 30, format: 'jpeg' } },
];

/** Pen widths and placements of each drawn digit. */
export const PEN_VARIANTS: readonly { name: string; options: PenOptions }[] = [
  { name: 'thin pen 3px', options: { strokeWidth: 3 } },
  { name: 'pen 8px', options: { strokeWidth: 8 } },
  { name: 'thick pen 16px', options: { strokeWidth: 16 } },
  { name: 'marker 24px', options: { strokeWidth: 24 } },
  { name: 'small white-on-black, rotated -8deg', options: { height: 70, dx: 30, dy: -30, strokeWidth: 6, rotate: -8, ink: '#fff', paper: '#000' } },
];

function fontName(f: FontOptions): string {
  return [f.font, f.weight, f.style].filter((x) => x !== undefined).join(' ');
}

export async function renderedSuite(): Promise<RenderedDigit[]> {
  const out: RenderedDigit[] = [];
  for (const font of EVAL_FONTS) {
    for (const v of FONT_VARIANTS) {
      for (let digit = 0; digit < 10; digit++) {
        const bytes = await renderDigitPng(digit, { ...font, ...v.options });
        out.push({ digit, kind: 'font', description: `font ${fontName(font)}, ${v.name}`, bytes });
      }
    }
  }
  for (const v of PEN_VARIANTS) {
    for (let digit = 0; digit < 10; digit++) {
      out.push({ digit, kind: 'pen', description: v.name, bytes: await drawDigitPng(digit, v.options) });
    }
  }
  return out;
}
