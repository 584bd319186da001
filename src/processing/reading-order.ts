/**
 * Reading order of detected text boxes: top to bottom, then left to right.
 *
 * Boxes are first grouped into rows: a box joins a row when its vertical extent overlaps that of
 * one of the row's boxes by at least `sameRowOverlap` (default half) of the shorter of the two
 * heights. So the parts of one printed line that the detector split (a word set apart by a wide
 * gap, a page number at the right margin) stay one row even when their boxes differ in height or
 * baseline by a few pixels, while two consecutive lines, which overlap little or not at all
 * (their boxes are grown by unclipping, so some overlap is normal), stay two rows. Rows come in
 * order of their top; within a row, boxes go left to right.
 *
 * PaddleOCR's `sorted_boxes` instead sorts by the top-left corner and swaps neighbours whose tops
 * differ by less than 10 px: a fixed pixel tolerance that is too tight for large type and too
 * loose for small type, and that only looks at adjacent pairs.
 */

export interface BoxLike {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Vertical overlap of two boxes in pixels (0 when they do not overlap). */
function verticalOverlap(a: BoxLike, b: BoxLike): number {
  return Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
}

function sameRow(a: BoxLike, b: BoxLike, sameRowOverlap: number): boolean {
  return verticalOverlap(a, b) >= sameRowOverlap * Math.min(a.height, b.height);
}

/** The boxes grouped into rows, rows top to bottom, each row left to right. Input is not modified. */
export function readingRows<T extends BoxLike>(boxes: readonly T[], sameRowOverlap = 0.5): T[][] {
  if (!(sameRowOverlap > 0 && sameRowOverlap <= 1)) throw new Error(`readingRows: sameRowOverlap must be in (0, 1], got ${sameRowOverlap}`);
  const byTop = [...boxes].sort((a, b) => a.y - b.y || a.x - b.x);
  const rows: T[][] = [];
  for (const box of byTop) {
    // Latest rows first: a box usually belongs to the row just started, if to any.
    let row: T[] | undefined;
    for (let r = rows.length - 1; r >= 0 && !row; r--) {
      if (rows[r]!.some((member) => sameRow(box, member, sameRowOverlap))) row = rows[r];
    }
    if (row) row.push(box);
    else rows.push([box]);
  }
  for (const row of rows) row.sort((a, b) => a.x - b.x || a.y - b.y);
  return rows;
}

/** The boxes in reading order: `readingRows` flattened. */
export function readingOrder<T extends BoxLike>(boxes: readonly T[], sameRowOverlap = 0.5): T[] {
  return readingRows(boxes, sameRowOverlap).flat();
}
