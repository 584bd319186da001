// "Many inputs at once", under each model's form: a batch of inputs (generated rows, lines of
// text, several files, copies of the sample) run either as a stream (predictStream: each answer
// shown as it arrives) or as a job (submitPredictionJob, followed by predictionJobProgress, its
// results read at the end), with a progress bar and a Stop / Cancel button.
//
// Both subscriptions are read over graphql-sse's "distinct connections" protocol at
// /graphql/stream with fetch and a streamed body: plain HTTP to this origin (the page's CSP
// allows connect-src 'self' and nothing more), no client library, and Stop is fetch's abort.
'use strict';

(function batches() {
  /** Results drawn in the list (the rest is counted): a long batch must not grow the page without end. */
  const SHOWN = 200;
  /** Errors drawn beyond the first SHOWN inputs, so failures far into a batch are still seen. */
  const MORE_ERRORS = 50;
  const SELECTIONS = {
    CLASSIFICATION: '... on Classification { label score }',
    TEXT_RECOGNITION: '... on TextRecognition { text confidence }',
    DOCUMENT_TEXT: '... on DocumentText { text detectedLines }',
    SPEECH_DETECTION: '... on SpeechDetection { segments { start end } speechRatio durationSeconds }',
    TENSOR: '... on TensorPrediction { outputs { name dims data } }',
  };
  const FINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

  // ---- Talking to the server -------------------------------------------------------------------

  async function graphql(endpoint, query, variables) {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    const body = await response.json().catch(() => ({ errors: [{ message: `HTTP ${response.status}` }] }));
    if (body.errors && body.errors.length) throw codedError(body.errors);
    return body.data;
  }

  function codedError(errors) {
    const error = new Error(errors.map((e) => e.message).join('; '));
    error.code = errors[0].extensions && errors[0].extensions.code;
    return error;
  }

  /**
   * A subscription's results over graphql-sse (distinct connections mode): one POST whose
   * response is a text/event-stream of `next` events (data: an execution result) ended by
   * `complete`. Aborting `signal` closes the connection, which ends the operation on the server.
   */
  async function* subscribe(url, query, variables, signal) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query, variables }),
      signal,
    });
    if (!response.ok || !response.body) {
      const text = await response.text();
      let body;
      try {
        body = JSON.parse(text);
      } catch {
        throw new Error(`the stream was refused: HTTP ${response.status} ${text.slice(0, 200)}`);
      }
      throw codedError(body.errors || [{ message: `HTTP ${response.status}` }]);
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          let data = '';
          for (const line of message.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data += line.slice(5).replace(/^ /, '');
          }
          if (event === 'complete') return;
          if (event === 'next' && data) yield JSON.parse(data);
        }
      }
    } finally {
      reader.cancel().catch(() => undefined);
    }
  }

  // ---- Inputs ----------------------------------------------------------------------------------

  /** A small seeded generator (mulberry32): the same batch twice is the same rows, so the cache can answer it. */
  function random(seed) {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  /** `count` rows around `center`: each value moved by up to ±spread of itself, two decimals. */
  function rowsAround(center, count, spread) {
    const next = random(count * 7919 + 1);
    return Array.from({ length: count }, () => center.map((v) => Math.max(0, Math.round(v * (1 + (next() * 2 - 1) * spread) * 100) / 100)));
  }

  const clip = (text, length) => (text.length > length ? `${text.slice(0, length - 1)}…` : text);

  /**
   * The controls that say which inputs a batch sends, per input kind, and `read()`, which returns
   * { inputs, labels } (labels: how each input is named in the results) or throws what is wrong.
   */
  function sourceFor(card, form, t) {
    const { element } = t;
    const id = (what) => `${card.name}-batch-${what}`;
    const count = (what, label, value, max) => {
      const input = element('input', { id: id(what), type: 'number', min: 1, max, step: 1, value, inputmode: 'numeric' });
      return { input, row: element('div', { className: 'batch-row' }, element('label', { for: id(what), text: label }), input) };
    };
    const readCount = (input, max) => {
      const n = Number(input.value);
      if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${input.labels[0].textContent}: a whole number from 1 to ${max}`);
      return n;
    };

    if (card.input === 'features') {
      const rows = count('rows', 'Rows', 50, 10000);
      return {
        controls: [rows.row, element('p', { className: 'muted small', text: 'Generated around the row above: each measurement moved by up to ±20%.' })],
        read() {
          const n = readCount(rows.input, 10000);
          const center = card.features.map((f) => {
            const field = form.elements.namedItem(f.name);
            const value = field ? Number(field.value) : f.example;
            return Number.isFinite(value) ? value : f.example;
          });
          const generated = rowsAround(center, n, 0.2);
          return { inputs: generated.map((features) => ({ features })), labels: generated.map((r) => `[${r.join(', ')}]`) };
        },
      };
    }
    if (card.input === 'text') {
      const area = element('textarea', { id: id('lines'), rows: 4 });
      area.value = (card.text || '').split('\n').map((l) => l.trim()).filter(Boolean).join('\n');
      return {
        controls: [element('label', { for: id('lines'), text: 'Inputs, one per line' }), area],
        read() {
          const lines = area.value.split('\n').map((l) => l.trim()).filter(Boolean);
          if (!lines.length) throw new Error('Write at least one line.');
          return { inputs: lines.map((text) => ({ text })), labels: lines.map((l) => clip(l, 60)) };
        },
      };
    }
    if (card.input === 'tensor') {
      const copies = count('copies', 'Copies of the tensors above', 10, 1000);
      return {
        controls: [copies.row],
        read() {
          const n = readCount(copies.input, 1000);
          const tensor = JSON.parse(form.elements.namedItem('tensor').value);
          return { inputs: Array.from({ length: n }, () => ({ tensor })), labels: Array.from({ length: n }, (_, i) => `copy ${i + 1}`) };
        },
      };
    }
    // Images and audio: several files, or copies of the model's sample.
    const field = card.input === 'image' ? 'image' : 'audio';
    const files = element('input', { id: id('files'), type: 'file', multiple: true, accept: card.input === 'image' ? 'image/png,image/jpeg' : 'audio/wav' });
    const controls = [element('label', { className: 'file', for: id('files') }, card.input === 'image' ? 'Images (PNG or JPEG, several at once): ' : 'WAV files (several at once): ', files)];
    let copies;
    if (card.sampleType) {
      copies = count('copies', 'Or copies of the sample', 20, 500);
      controls.push(copies.row, element('p', { className: 'muted small', text: 'Chosen files win over copies; identical inputs in flight are computed once.' }));
    }
    return {
      controls,
      async read() {
        if (files.files && files.files.length) {
          const chosen = [...files.files];
          const bytes = await Promise.all(chosen.map(async (f) => new Uint8Array(await f.arrayBuffer())));
          return { inputs: bytes.map((b) => ({ [field]: t.bytesToBase64(b) })), labels: chosen.map((f) => clip(f.name, 60)) };
        }
        if (!copies) throw new Error('Choose one or more files.');
        const n = readCount(copies.input, 500);
        const sample = t.bytesToBase64(await t.fetchSample(card));
        return { inputs: Array.from({ length: n }, () => ({ [field]: sample })), labels: Array.from({ length: n }, (_, i) => `sample, copy ${i + 1}`) };
      },
    };
  }

  /** One answer in a word or a line. */
  function summary(card, p) {
    switch (card.task) {
      case 'CLASSIFICATION':
        return `${p.label} (${(p.score * 100).toFixed(1)}%)`;
      case 'TEXT_RECOGNITION':
        return p.text;
      case 'DOCUMENT_TEXT':
        return `${clip(p.text.split('\n')[0] || '', 60)} (${p.detectedLines} line${p.detectedLines === 1 ? '' : 's'})`;
      case 'SPEECH_DETECTION':
        return `${p.segments.length} segment${p.segments.length === 1 ? '' : 's'}, speech in ${(p.speechRatio * 100).toFixed(0)}% of ${p.durationSeconds.toFixed(2)} s`;
      case 'TENSOR':
        return clip(p.outputs.map((o) => `${o.name} ${JSON.stringify(o.data)}`).join('; '), 80);
      default:
        return clip(JSON.stringify(p), 80);
    }
  }

  // ---- The section ---------------------------------------------------------------------------------

  /** `t`: what front.js shares (element, bytesToBase64, fetchSample, endpoint, streamEndpoint). */
  function section(form, card, t) {
    const { element } = t;
    const ask = (query, variables) => graphql(t.endpoint, query, variables);
    const id = (what) => `${card.name}-batch-${what}`;
    const source = sourceFor(card, form, t);
    const how = element(
      'fieldset',
      { className: 'batch-how' },
      element('legend', { text: 'Run them' }),
      element('label', {}, element('input', { type: 'radio', name: id('how'), value: 'stream', checked: true }), ' as a stream: each answer as it arrives'),
      element('label', {}, element('input', { type: 'radio', name: id('how'), value: 'job' }), ' as a job: in the background, results at the end'),
    );
    const bypass = element('input', { type: 'checkbox', id: id('bypass') });
    const start = element('button', { type: 'button', 'data-action': 'batch-start', text: 'Start' });
    const stop = element('button', { type: 'button', 'data-action': 'batch-stop', text: 'Stop', disabled: true });
    const bar = element('progress', { max: 1, value: 0, 'aria-labelledby': id('status') });
    const status = element('span', { className: 'batch-status', id: id('status'), text: 'Nothing running.' });
    const outcome = element('div', { className: 'batch-outcome', role: 'status', 'aria-live': 'polite' });
    const list = element('ol', { className: 'batch-results', 'aria-label': `Answers of the batch for ${card.name}` });
    const box = element(
      'details',
      { className: 'batch', 'data-batch': card.name },
      element('summary', { text: 'Many inputs at once' }),
      ...source.controls,
      how,
      element('label', { className: 'check', for: id('bypass') }, bypass, ' Compute every input (skip the cache)'),
      element('div', { className: 'buttons' }, start, stop),
      element('div', { className: 'batch-progress', hidden: true }, bar, status),
      outcome,
      list,
    );
    // Enter in one of the batch's fields starts the batch, not the single prediction of the form around it.
    box.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && e.target instanceof HTMLInputElement && e.target.type !== 'checkbox' && e.target.type !== 'radio') {
        e.preventDefault();
        if (!start.disabled) start.click();
      }
    });

    let labels = [];
    let errorsShown = 0;
    let onStop = null;

    const setProgress = (done, total, failed, state) => {
      bar.max = Math.max(1, total);
      bar.value = done;
      box.dataset.done = String(done);
      box.dataset.total = String(total);
      status.textContent = `${done} of ${total}${failed ? `, ${failed} failed` : ''}${state ? ` · ${state.toLowerCase()}` : ''}`;
    };

    /** Shows one input's outcome in the list, in index order. */
    const show = (index, prediction, error) => {
      if (index >= SHOWN && (!error || errorsShown >= MORE_ERRORS)) return;
      if (index >= SHOWN) errorsShown++;
      const item = element(
        'li',
        { className: error ? 'failed' : 'ok', 'data-index': index, 'data-input': labels[index] },
        element('span', { className: 'idx', text: `#${index + 1}` }),
        element('span', { className: 'in', text: labels[index] || '' }),
        element('span', { className: 'out', text: error ? `${error.code}: ${error.message}` : summary(card, prediction) }),
      );
      let after = null;
      for (const other of list.children) {
        if (Number(other.dataset.index) > index) {
          after = other;
          break;
        }
      }
      list.insertBefore(item, after);
    };

    const begin = (total, stopText) => {
      list.textContent = '';
      errorsShown = 0;
      box.querySelector('.batch-progress').hidden = false;
      box.dataset.state = 'RUNNING';
      setProgress(0, total, 0);
      start.disabled = true;
      stop.textContent = stopText;
      stop.disabled = false;
    };
    const end = (state, message, isError) => {
      box.dataset.state = state;
      outcome.className = `batch-outcome${isError ? ' error' : ''}`;
      outcome.textContent = message;
      start.disabled = false;
      stop.disabled = true;
      onStop = null;
      const more = Number(box.dataset.total || 0) - SHOWN;
      if (more > 0) list.append(element('li', { className: 'more muted', text: `The first ${SHOWN} inputs are listed (and errors among the next); ${more} more are counted above.` }));
    };

    const options = () => ({ cache: bypass.checked ? 'BYPASS' : 'USE' });

    async function runStream(inputs) {
      const aborter = new AbortController();
      let stopped = false;
      onStop = () => {
        stopped = true;
        aborter.abort();
      };
      begin(inputs.length, 'Stop');
      const query = `subscription FrontStream($model: String!, $inputs: [PredictionInput!]!, $options: PredictOptions) {
        predictStream(model: $model, inputs: $inputs, options: $options) { index done total error { code message } prediction { ${SELECTIONS[card.task]} } }
      }`;
      let done = 0;
      let failed = 0;
      try {
        for await (const result of subscribe(t.streamEndpoint, query, { model: card.name, inputs, options: options() }, aborter.signal)) {
          if (result.errors && result.errors.length) throw codedError(result.errors);
          const event = result.data.predictStream;
          done = event.done;
          if (event.error) failed++;
          setProgress(done, event.total, failed);
          show(event.index, event.prediction, event.error);
        }
        if (stopped) return end('STOPPED', `Stopped: ${done} of ${inputs.length} answered.`);
        if (done < inputs.length) return end('FAILED', `The stream ended early: ${done} of ${inputs.length} answered.`, true);
        end('SUCCEEDED', `All ${inputs.length} answered${failed ? `, ${failed} with an error` : ''}.`, failed > 0);
      } catch (error) {
        if (stopped) return end('STOPPED', `Stopped: ${done} of ${inputs.length} answered.`);
        end('FAILED', (error.code ? `${error.code}: ` : '') + String(error.message || error), true);
      }
    }

    async function runJob(inputs) {
      begin(inputs.length, 'Cancel job');
      stop.disabled = true;
      let job;
      try {
        job = (await ask(`mutation FrontJob($model: String!, $inputs: [PredictionInput!]!, $options: PredictOptions) {
          submitPredictionJob(model: $model, inputs: $inputs, options: $options) { id state total done failed }
        }`, { model: card.name, inputs, options: options() })).submitPredictionJob;
      } catch (error) {
        return end('FAILED', (error.code ? `${error.code}: ` : '') + String(error.message || error), true);
      }
      box.dataset.job = job.id;
      setProgress(job.done, job.total, job.failed, job.state);
      onStop = async () => {
        stop.disabled = true;
        try {
          const cancelled = (await ask('mutation FrontCancel($id: ID!) { cancelPredictionJob(id: $id) { state total done failed } }', { id: job.id })).cancelPredictionJob;
          job = { ...job, ...cancelled };
          setProgress(job.done, job.total, job.failed, job.state);
        } catch (error) {
          outcome.className = 'batch-outcome error';
          outcome.textContent = (error.code ? `${error.code}: ` : '') + String(error.message || error);
        }
      };
      stop.disabled = FINAL.has(job.state);
      const aborter = new AbortController();
      window.addEventListener('pagehide', () => aborter.abort(), { once: true });
      try {
        const query = 'subscription FrontJobProgress($id: ID!) { predictionJobProgress(id: $id) { state total done failed } }';
        for await (const result of subscribe(t.streamEndpoint, query, { id: job.id }, aborter.signal)) {
          if (result.errors && result.errors.length) throw codedError(result.errors);
          job = { ...job, ...result.data.predictionJobProgress };
          setProgress(job.done, job.total, job.failed, job.state);
          if (FINAL.has(job.state)) break;
        }
        // The subscription ends with the job; if the connection ended first, ask once.
        if (!FINAL.has(job.state)) job = { ...job, ...(await ask('query FrontJobState($id: ID!) { predictionJob(id: $id) { state total done failed } }', { id: job.id })).predictionJob };
        setProgress(job.done, job.total, job.failed, job.state);
        const read = await ask(
          `query FrontJobResults($id: ID!, $limit: Int!) { predictionJob(id: $id) { results(offset: 0, limit: $limit) { index error { code message } prediction { ${SELECTIONS[card.task]} } } } }`,
          { id: job.id, limit: Math.min(SHOWN, inputs.length) },
        );
        for (const r of read.predictionJob.results) show(r.index, r.prediction, r.error);
        const text = { SUCCEEDED: `The job is done: all ${job.total} answered${job.failed ? `, ${job.failed} with an error` : ''}.`, CANCELLED: `The job was cancelled: ${job.done} of ${job.total} answered, kept.`, FAILED: `The job failed: ${job.done} of ${job.total} answered, kept.` }[job.state];
        end(job.state, text || `The job is ${job.state}.`, job.state === 'FAILED' || job.failed > 0);
      } catch (error) {
        end('FAILED', (error.code ? `${error.code}: ` : '') + String(error.message || error), true);
      }
    }

    start.addEventListener('click', async () => {
      outcome.className = 'batch-outcome';
      outcome.textContent = '';
      start.disabled = true;
      let batch;
      try {
        batch = await source.read();
      } catch (error) {
        start.disabled = false;
        outcome.className = 'batch-outcome error';
        outcome.textContent = String(error.message || error);
        return;
      }
      labels = batch.labels;
      const mode = box.querySelector(`input[name="${id('how')}"]:checked`).value;
      await (mode === 'job' ? runJob(batch.inputs) : runStream(batch.inputs));
    });
    stop.addEventListener('click', () => onStop && onStop());
    return box;
  }

  window.Batch = { section };
})();
