// The front page: one form per served model, built from /front/models.json (re-read every few
// seconds, so models added or removed at run time appear without a reload), each asking
// /graphql with the per-phase timings header and showing the answer the way it reads best.
'use strict';

(function frontPage() {
  const { endpoint, streamEndpoint } = JSON.parse(document.getElementById('front-config').textContent);
  const tabs = document.getElementById('model-tabs');
  const forms = document.getElementById('model-forms');
  const lede = document.getElementById('lede');
  const cards = new Map();
  let tag = '';
  let selected = decodeURIComponent((location.hash.match(/^#model=(.+)$/) || [])[1] || '');

  const SELECTIONS = {
    CLASSIFICATION: '... on Classification { label score classes(top: 5) { label score } }',
    TEXT_RECOGNITION: '... on TextRecognition { text confidence }',
    DOCUMENT_TEXT: '... on DocumentText { text detectedLines truncated lines { text confidence box { x y width height } } }',
    SPEECH_DETECTION: '... on SpeechDetection { segments { start end } speechRatio durationSeconds }',
    TENSOR: '... on TensorPrediction { outputs { name dims data } }',
  };
  const CACHE_TEXT = { NONE: 'computed now', L1: 'from the in-memory cache', STORE: 'from the cache store' };
  const KIND_TEXT = { features: 'a table row', text: 'text', image: 'an image', audio: 'audio', tensor: 'tensors' };

  function element(name, attributes, ...children) {
    const node = document.createElement(name);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'className') node.className = value;
      else if (key === 'text') node.textContent = value;
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    node.append(...children.filter((c) => c !== undefined && c !== null));
    return node;
  }

  function bytesToBase64(bytes) {
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(binary);
  }

  // ---- Asking the server ---------------------------------------------------------------------

  async function predict(card, input) {
    const query = `query Try($model: String!, $input: PredictionInput!) { predict(model: $model, input: $input) { cacheSource ${SELECTIONS[card.task]} } }`;
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-predictql-timings': '1' },
      body: JSON.stringify({ query, operationName: 'Try', variables: { model: card.name, input } }),
    });
    const body = await response.json();
    if (body.errors && body.errors.length) {
      const error = new Error(body.errors.map((e) => e.message).join('; '));
      error.code = body.errors[0].extensions && body.errors[0].extensions.code;
      throw error;
    }
    return { prediction: body.data.predict, timings: body.extensions && body.extensions.timings };
  }

  /** Runs a prediction for a form and shows its answer (or the server's error) in it. */
  async function run(form, card, input, view) {
    const answer = form.querySelector('.answer');
    answer.className = 'answer busy';
    answer.textContent = `Asking ${card.name}...`;
    try {
      const { prediction, timings } = await predict(card, input);
      answer.className = 'answer';
      answer.textContent = '';
      answer.append(render(card, prediction, view));
      const meta = element('div', { className: 'meta' }, element('span', { className: `cache cache-${prediction.cacheSource.toLowerCase()}`, text: CACHE_TEXT[prediction.cacheSource] || prediction.cacheSource }));
      answer.append(meta);
      if (timings) answer.append(window.Charts.timingsBar(timings));
      form.dataset.answered = String(Number(form.dataset.answered || 0) + 1);
    } catch (error) {
      answer.className = 'answer error';
      answer.textContent = (error.code ? `${error.code}: ` : '') + String(error.message || error);
    }
  }

  // ---- Answers ---------------------------------------------------------------------------------

  function render(card, p, view) {
    switch (card.task) {
      case 'CLASSIFICATION':
        return element('div', { className: 'result' }, element('div', { className: 'label', text: p.label }), window.Charts.scoreBars(p.classes));
      case 'TEXT_RECOGNITION':
        return element('div', { className: 'result' }, element('div', { className: 'label text', text: p.text }), element('div', { className: 'muted', text: `confidence ${(p.confidence * 100).toFixed(1)}%` }));
      case 'DOCUMENT_TEXT': {
        if (view && view.drawBoxes) view.drawBoxes(p.lines.map((l) => l.box));
        const lines = element('ol', { className: 'lines' }, ...p.lines.map((l) => element('li', { text: l.text, title: `confidence ${(l.confidence * 100).toFixed(1)}%` })));
        const note = `${p.detectedLines} line${p.detectedLines === 1 ? '' : 's'} found${p.truncated ? ', only the first read' : ''}; boxes drawn over the image`;
        return element('div', { className: 'result' }, element('pre', { className: 'label text', text: p.text }), lines, element('div', { className: 'muted', text: note }));
      }
      case 'SPEECH_DETECTION': {
        if (view && view.drawSegments) view.drawSegments(p.segments, p.durationSeconds);
        const segments = p.segments.length
          ? element('ol', { className: 'segments' }, ...p.segments.map((s) => element('li', { text: `${s.start.toFixed(2)} s – ${s.end.toFixed(2)} s` })))
          : element('div', { className: 'label', text: 'No speech' });
        return element('div', { className: 'result' }, segments, element('div', { className: 'muted', text: `speech in ${(p.speechRatio * 100).toFixed(0)}% of ${p.durationSeconds.toFixed(2)} s` }));
      }
      case 'TENSOR':
        return element('div', { className: 'result' }, ...p.outputs.map((o) => element('div', {}, element('code', { text: `${o.name} [${o.dims.join(', ')}]` }), element('pre', { text: JSON.stringify(o.data) }))));
      default:
        return element('pre', { text: JSON.stringify(p, null, 2) });
    }
  }

  // ---- Forms, one per input kind -----------------------------------------------------------------

  function featuresForm(form, card) {
    const grid = element('div', { className: 'fields' });
    for (const feature of card.features) {
      const id = `${card.name}-${feature.name}`;
      grid.append(element('label', { for: id }, feature.name.replace(/_/g, ' ')), element('input', { id, name: feature.name, type: 'number', step: 'any', required: true, value: feature.example }));
    }
    form.append(grid, element('div', { className: 'buttons' }, element('button', { type: 'submit', text: 'Predict' })));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const features = card.features.map((f) => Number(form.elements.namedItem(f.name).value));
      run(form, card, { features });
    });
  }

  function textForm(form, card) {
    const id = `${card.name}-text`;
    form.append(element('label', { for: id, text: 'Text' }), element('textarea', { id, name: 'text', rows: 4 }));
    form.elements.namedItem('text').value = card.text || '';
    form.append(element('div', { className: 'buttons' }, element('button', { type: 'submit', text: 'Predict' })));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      run(form, card, { text: form.elements.namedItem('text').value });
    });
  }

  function tensorForm(form, card) {
    const id = `${card.name}-tensor`;
    form.append(element('label', { for: id, text: 'Tensors (JSON: name, dims, data)' }), element('textarea', { id, name: 'tensor', rows: 4, className: 'code' }));
    form.elements.namedItem('tensor').value = JSON.stringify(card.tensors || []);
    form.append(element('div', { className: 'buttons' }, element('button', { type: 'submit', text: 'Predict' })));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const answer = form.querySelector('.answer');
      let tensor;
      try {
        tensor = JSON.parse(form.elements.namedItem('tensor').value);
      } catch (error) {
        answer.className = 'answer error';
        answer.textContent = `Not JSON: ${error.message}`;
        return;
      }
      run(form, card, { tensor });
    });
  }

  /** A file chooser that hands the chosen file's bytes to `use`. */
  function fileInput(card, accept, label, use) {
    const id = `${card.name}-file`;
    const input = element('input', { id, type: 'file', accept });
    input.addEventListener('change', async () => {
      const file = input.files && input.files[0];
      if (file) use(new Uint8Array(await file.arrayBuffer()), file.type);
    });
    return element('label', { className: 'file', for: id }, `${label} `, input);
  }

  async function fetchSample(card) {
    const response = await fetch(`/front/samples/${encodeURIComponent(card.name)}`);
    return new Uint8Array(await response.arrayBuffer());
  }

  function imageForm(form, card) {
    const preview = element('div', { className: 'preview', hidden: true });
    const img = element('img', { alt: `The image sent to ${card.name}` });
    const overlay = window.Charts.svgElement('svg', { class: 'boxes', 'aria-hidden': 'true' });
    preview.append(img, overlay);
    let url;
    const showImage = (bytes, type) =>
      new Promise((resolve) => {
        if (url) URL.revokeObjectURL(url);
        url = URL.createObjectURL(new Blob([bytes], { type: type || 'image/png' }));
        overlay.textContent = '';
        img.onload = () => {
          overlay.setAttribute('viewBox', `0 0 ${img.naturalWidth} ${img.naturalHeight}`);
          resolve();
        };
        img.onerror = () => resolve();
        img.src = url;
        preview.hidden = false;
      });
    const view = {
      drawBoxes(boxes) {
        overlay.textContent = '';
        for (const b of boxes) overlay.append(window.Charts.svgElement('rect', { x: b.x, y: b.y, width: b.width, height: b.height, class: 'box' }));
      },
    };
    const send = async (bytes, type) => {
      await showImage(bytes, type);
      run(form, card, { image: bytesToBase64(bytes) }, view);
    };
    if (card.drawable) {
      const canvas = element('canvas', { width: 280, height: 280, 'aria-label': `Drawing area for ${card.name}: draw with the mouse, a finger or a pen` });
      form.append(canvas, element('div', { className: 'buttons' }, element('button', { type: 'button', 'data-action': 'clear', text: 'Clear' }), element('button', { type: 'submit', 'data-action': 'predict-drawing', text: 'Predict drawing' })));
      drawable(canvas, form);
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        if (!canvas.dataset.drawn) {
          form.querySelector('.answer').textContent = 'Draw something first, or upload an image.';
          return;
        }
        canvas.toBlob(async (blob) => {
          const bytes = new Uint8Array(await blob.arrayBuffer());
          run(form, card, { image: bytesToBase64(bytes) }, view);
        }, 'image/png');
      });
    } else {
      form.addEventListener('submit', (e) => e.preventDefault());
    }
    const row = element('div', { className: 'buttons' }, fileInput(card, 'image/png,image/jpeg', card.drawable ? 'Or upload a PNG or JPEG:' : 'A PNG or JPEG:', send));
    if (card.sampleType) {
      const sample = element('button', { type: 'button', 'data-action': 'sample', text: 'Try the sample' });
      sample.addEventListener('click', async () => send(await fetchSample(card), card.sampleType));
      row.append(sample);
    }
    form.append(row, preview);
  }

  function drawable(canvas, form) {
    const ctx = canvas.getContext('2d');
    const clear = () => {
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      canvas.dataset.drawn = '';
    };
    clear();
    ctx.lineWidth = 20;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.strokeStyle = '#000';
    let drawing = false;
    const at = (e) => {
      const box = canvas.getBoundingClientRect();
      return [(e.clientX - box.left) * (canvas.width / box.width), (e.clientY - box.top) * (canvas.height / box.height)];
    };
    canvas.addEventListener('pointerdown', (e) => {
      drawing = true;
      canvas.setPointerCapture(e.pointerId);
      ctx.beginPath();
      ctx.moveTo(...at(e));
      ctx.lineTo(...at(e));
      ctx.stroke();
      canvas.dataset.drawn = 'yes';
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!drawing) return;
      ctx.lineTo(...at(e));
      ctx.stroke();
    });
    const stop = () => (drawing = false);
    canvas.addEventListener('pointerup', stop);
    canvas.addEventListener('pointercancel', stop);
    form.querySelector('[data-action="clear"]').addEventListener('click', () => {
      clear();
      form.querySelector('.answer').textContent = '';
    });
  }

  // ---- Audio: WAV parsing and writing, the waveform, the microphone ------------------------------

  /** The mono samples (-1..1) and rate of a 16-bit PCM WAV, or null if it is not one. */
  function readWav(bytes) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const tag = (at) => String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
    if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') return null;
    let channels = 1;
    let rate = 16000;
    let bits = 16;
    for (let at = 12; at + 8 <= bytes.length; ) {
      const size = view.getUint32(at + 4, true);
      if (tag(at) === 'fmt ') {
        channels = view.getUint16(at + 10, true);
        rate = view.getUint32(at + 12, true);
        bits = view.getUint16(at + 22, true);
      } else if (tag(at) === 'data') {
        if (bits !== 16) return null;
        const frames = Math.floor(Math.min(size, bytes.length - at - 8) / (2 * channels));
        const samples = new Float32Array(frames);
        for (let i = 0; i < frames; i++) samples[i] = view.getInt16(at + 8 + i * 2 * channels, true) / 32768;
        return { samples, rate };
      }
      at += 8 + size + (size % 2);
    }
    return null;
  }

  /** A 16-bit PCM mono WAV of `samples` (-1..1). */
  function writeWav(samples, rate) {
    const bytes = new Uint8Array(44 + samples.length * 2);
    const view = new DataView(bytes.buffer);
    const text = (at, s) => [...s].forEach((c, i) => (bytes[at + i] = c.charCodeAt(0)));
    text(0, 'RIFF');
    view.setUint32(4, 36 + samples.length * 2, true);
    text(8, 'WAVE');
    text(12, 'fmt ');
    view.setUint32(16, 16, true);
    view.setUint16(20, 1, true);
    view.setUint16(22, 1, true);
    view.setUint32(24, rate, true);
    view.setUint32(28, rate * 2, true);
    view.setUint16(32, 2, true);
    view.setUint16(34, 16, true);
    text(36, 'data');
    view.setUint32(40, samples.length * 2, true);
    samples.forEach((s, i) => view.setInt16(44 + i * 2, Math.max(-1, Math.min(1, s)) * 32767, true));
    return bytes;
  }

  /** Any audio file the browser can decode, as a 16 kHz mono WAV (the server reads WAV only). */
  async function toWav(bytes) {
    const context = new OfflineAudioContext(1, 16000, 16000);
    const decoded = await context.decodeAudioData(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const render = new OfflineAudioContext(1, Math.ceil(decoded.duration * 16000), 16000);
    const source = render.createBufferSource();
    source.buffer = decoded;
    source.connect(render.destination);
    source.start();
    const mono = await render.startRendering();
    return writeWav(mono.getChannelData(0), 16000);
  }

  function audioForm(form, card) {
    const wave = element('canvas', { className: 'wave', width: 600, height: 120, role: 'img', 'aria-label': 'The clip as a waveform, speech segments shaded' });
    const waveBox = element('div', { className: 'wave-box', hidden: true }, wave);
    let clip = null;
    const drawWave = (segments, duration) => {
      const ctx = wave.getContext('2d');
      const { width, height } = wave;
      ctx.clearRect(0, 0, width, height);
      if (!clip) return;
      const seconds = duration || clip.samples.length / clip.rate;
      ctx.fillStyle = 'rgba(21, 128, 61, 0.22)';
      for (const s of segments || []) ctx.fillRect((s.start / seconds) * width, 0, ((s.end - s.start) / seconds) * width, height);
      ctx.fillStyle = '#33516e';
      const perColumn = Math.max(1, Math.floor(clip.samples.length / width));
      for (let x = 0; x < width; x++) {
        let lo = 0;
        let hi = 0;
        for (let i = x * perColumn; i < Math.min(clip.samples.length, (x + 1) * perColumn); i++) {
          lo = Math.min(lo, clip.samples[i]);
          hi = Math.max(hi, clip.samples[i]);
        }
        ctx.fillRect(x, height / 2 - hi * (height / 2), 1, Math.max(1, (hi - lo) * (height / 2)));
      }
    };
    const view = { drawSegments: (segments, duration) => drawWave(segments, duration) };
    const send = async (bytes) => {
      const answer = form.querySelector('.answer');
      let wav = bytes;
      if (!readWav(bytes)) {
        try {
          wav = await toWav(bytes);
        } catch {
          answer.className = 'answer error';
          answer.textContent = 'This browser cannot decode that file; send a WAV.';
          return;
        }
      }
      clip = readWav(wav);
      waveBox.hidden = false;
      drawWave([]);
      run(form, card, { audio: bytesToBase64(wav) }, view);
    };
    form.addEventListener('submit', (e) => e.preventDefault());
    const row = element('div', { className: 'buttons' }, fileInput(card, 'audio/wav,audio/*', 'A WAV file:', send));
    if (card.sampleType) {
      const sample = element('button', { type: 'button', 'data-action': 'sample', text: 'Try the sample' });
      sample.addEventListener('click', async () => send(await fetchSample(card)));
      row.append(sample);
    }
    // Recording needs a secure context (https or localhost) and a browser that offers it.
    if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.isSecureContext) {
      const record = element('button', { type: 'button', 'data-action': 'record', 'aria-pressed': 'false', text: 'Record' });
      let stop = null;
      record.addEventListener('click', async () => {
        if (stop) return stop();
        try {
          stop = await recordClip(async (samples, rate) => {
            stop = null;
            record.textContent = 'Record';
            record.setAttribute('aria-pressed', 'false');
            send(writeWav(samples, rate));
          });
          record.textContent = 'Stop';
          record.setAttribute('aria-pressed', 'true');
        } catch (error) {
          const answer = form.querySelector('.answer');
          answer.className = 'answer error';
          answer.textContent = `No microphone: ${error.message || error}`;
        }
      });
      row.append(record);
    }
    form.append(row, waveBox);
  }

  /** Records from the microphone until the returned function is called; `done` gets the samples. */
  async function recordClip(done) {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1 } });
    const context = new AudioContext();
    const source = context.createMediaStreamSource(stream);
    const tap = context.createScriptProcessor(4096, 1, 1);
    const chunks = [];
    tap.onaudioprocess = (e) => chunks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
    source.connect(tap);
    tap.connect(context.destination);
    return () => {
      tap.disconnect();
      source.disconnect();
      for (const track of stream.getTracks()) track.stop();
      const samples = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) {
        samples.set(c, at);
        at += c.length;
      }
      const rate = context.sampleRate;
      context.close();
      done(samples, rate);
    };
  }

  // ---- The model picker ----------------------------------------------------------------------------

  function buildForm(card) {
    const form = element('form', { className: 'model-form', 'data-model': card.name, 'data-task': card.task, id: `form-${card.name}`, role: 'tabpanel', 'aria-labelledby': `tab-${card.name}`, hidden: true, novalidate: card.input === 'features' ? undefined : true });
    const version = card.versionName ? `${card.versionName} · ${card.version}` : card.version;
    form.append(
      element('h3', {}, element('code', { text: card.name }), ' ', element('span', { className: 'chip', text: card.task.replace(/_/g, ' ').toLowerCase() }), ' ', element('span', { className: 'chip state', text: card.state.toLowerCase().replace('_', ' ') })),
      element('p', { className: 'about', text: card.description.split(/(?<=\.)\s/)[0] }),
      element('p', { className: 'muted small', text: `version ${version}` }),
    );
    ({ features: featuresForm, text: textForm, image: imageForm, audio: audioForm, tensor: tensorForm })[card.input](form, card);
    form.append(element('div', { className: 'answer', 'aria-live': 'polite' }));
    form.append(window.Batch.section(form, card, { element, bytesToBase64, fetchSample, endpoint, streamEndpoint }));
    return form;
  }

  function select(name, focus) {
    if (!cards.has(name)) name = cards.keys().next().value;
    selected = name;
    for (const button of tabs.querySelectorAll('[role=tab]')) {
      const on = button.dataset.model === name;
      button.setAttribute('aria-selected', String(on));
      button.tabIndex = on ? 0 : -1;
      if (on && focus) button.focus();
    }
    for (const form of forms.querySelectorAll('form.model-form')) form.hidden = form.dataset.model !== name;
    if (location.hash !== `#model=${name}` && name) history.replaceState(null, '', `#model=${encodeURIComponent(name)}`);
  }

  tabs.addEventListener('keydown', (e) => {
    const buttons = [...tabs.querySelectorAll('[role=tab]')];
    const at = buttons.findIndex((b) => b.dataset.model === selected);
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
    if (step === undefined && e.key !== 'Home' && e.key !== 'End') return;
    e.preventDefault();
    const next = e.key === 'Home' ? 0 : e.key === 'End' ? buttons.length - 1 : (at + step + buttons.length) % buttons.length;
    select(buttons[next].dataset.model, true);
  });

  function sync(list) {
    const wanted = new Map(list.map((c) => [c.name, c]));
    for (const [name, old] of cards) {
      const card = wanted.get(name);
      if (!card || card.version !== old.version || card.input !== old.input) {
        cards.delete(name);
        forms.querySelector(`form[data-model="${CSS.escape(name)}"]`)?.remove();
      }
    }
    if (!cards.size) forms.textContent = '';
    for (const card of list) {
      if (!cards.has(card.name)) forms.append(buildForm(card));
      else forms.querySelector(`form[data-model="${CSS.escape(card.name)}"] .state`).textContent = card.state.toLowerCase().replace('_', ' ');
      cards.set(card.name, card);
    }
    tabs.textContent = '';
    for (const card of list) {
      const kind = card.drawable ? 'a drawing' : KIND_TEXT[card.input];
      const button = element('button', { type: 'button', role: 'tab', id: `tab-${card.name}`, 'aria-controls': `form-${card.name}`, 'data-model': card.name }, element('strong', { text: card.name }), element('small', { text: kind }));
      button.addEventListener('click', () => select(card.name));
      tabs.append(button);
    }
    const kinds = [...new Set(list.map((c) => c.input))].map((k) => ({ features: 'table rows', text: 'text', image: 'images', audio: 'audio', tensor: 'raw tensors' })[k]);
    lede.textContent = `A GraphQL API serving ${list.length} ONNX model${list.length === 1 ? '' : 's'} that read ${kinds.join(', ')}. Requests are merged into batches across clients and run on a pool of worker threads; repeated inputs are answered from a cache. Pick a model below, try it, and watch the server work in the live panel.`;
    select(selected, false);
  }

  async function refresh() {
    try {
      const response = await fetch('/front/models.json', { headers: { accept: 'application/json' } });
      const body = await response.json();
      if (body.tag !== tag) {
        tag = body.tag;
        sync(body.models);
      }
    } catch {
      // The server may be restarting; the next refresh tries again.
    }
  }

  window.addEventListener('hashchange', () => {
    const name = decodeURIComponent((location.hash.match(/^#model=(.+)$/) || [])[1] || '');
    if (name && name !== selected) select(name, false);
  });

  refresh();
  setInterval(() => {
    if (!document.hidden) refresh();
  }, 5000);
})();
