/**
 * The answers a multi-stage model can assemble from the values of its chain, by the names of
 * src/pipelines/stage-catalog.ts (`answer.build` in a manifest). They run on the main thread, so
 * they only arrange what the stages computed.
 */
import type { ItemResult, StageValue, TextLineResult } from '../domain/types.ts';
import type { AnswerName } from '../pipelines/stage-catalog.ts';

function expect<K extends StageValue['kind']>(value: StageValue | undefined, kind: K, answer: string): Extract<StageValue, { kind: K }> {
  if (value?.kind !== kind) throw new Error(`answer ${answer}: expected a value of kind ${kind}, got ${value?.kind ?? 'nothing'}`);
  return value as Extract<StageValue, { kind: K }>;
}

export const ANSWER_BUILDERS: { [K in AnswerName]: (values: ReadonlyArray<StageValue | undefined>) => ItemResult } = {
  /**
   * The page's lines in reading order, each region's text with the region's box. A region that
   * reads as nothing (a speck the detector took for text, a line too small to read) is left out:
   * an empty line would only be noise in `text`. `detectedLines` still counts it.
   */
  'document-text'([regionsValue, textsValue]) {
    const { regions, found, truncated } = expect(regionsValue, 'regions', 'document-text');
    const { texts } = expect(textsValue, 'texts', 'document-text');
    if (texts.length !== regions.length) throw new Error(`answer document-text: ${texts.length} texts for ${regions.length} regions`);
    const lines: TextLineResult[] = [];
    regions.forEach((region, i) => {
      const { text, confidence } = texts[i]!;
      if (text !== '') lines.push({ text, confidence, box: region.box });
    });
    return { kind: 'documentText', lines, detectedLines: found, truncated };
  },
};
