/**
 * Ink against paper: Otsu's global threshold of a grey-level histogram, where a page's ink is
 * told apart from its background (line-crop.ts).
 */

/** Otsu's threshold of an 8-bit histogram: the level that best splits it into two classes. */
export function otsuThreshold(histogram: ArrayLike<number>): number {
  let total = 0;
  let sumAll = 0;
  for (let v = 0; v < 256; v++) {
    total += histogram[v]!;
    sumAll += v * histogram[v]!;
  }
  let best = 0;
  let bestVariance = -1;
  let weightLow = 0;
  let sumLow = 0;
  for (let t = 0; t < 256; t++) {
    weightLow += histogram[t]!;
    if (weightLow === 0) continue;
    const weightHigh = total - weightLow;
    if (weightHigh === 0) break;
    sumLow += t * histogram[t]!;
    const meanLow = sumLow / weightLow;
    const meanHigh = (sumAll - sumLow) / weightHigh;
    const variance = weightLow * weightHigh * (meanLow - meanHigh) ** 2;
    if (variance > bestVariance) {
      bestVariance = variance;
      best = t;
    }
  }
  return best;
}
