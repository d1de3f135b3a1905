// The OCR page: no framework, no build step. Every URL is relative to the page, so it
// works at / on a laptop and under an API Gateway stage prefix alike.
'use strict';

const $ = (id) => document.getElementById(id);
const ACCEPTED = ['image/png', 'image/jpeg', 'image/bmp', 'image/tiff', 'image/webp', 'image/gif'];
const FORMATS = 'PNG, JPEG, BMP, TIFF, WebP or GIF'; // what the API decodes (ocr_engine.imagefile)
const AUTH_MESSAGE = 'This API requires authentication (deployed with ApiAuth), which this page does not send. ' +
  'Call the API with a token.';
// An upload still unanswered after this long is given up. The API stops a read at its deadline
// (OCR_REQUEST_DEADLINE_S, 20 s) and API Gateway answers 504 at 29 s: this leaves room for a
// slow upload and a queue on the local server.
const UPLOAD_TIMEOUT_MS = 120000;
const TIMEOUT_MESSAGE = 'The server did not answer within 2 minutes, so the upload was stopped. ' +
  'Try again, or try a smaller image.';

let previewUrl = null;
let latestRequest = 0; // a newer upload wins over an older answer still on its way
let inFlight = null; // the AbortController of the upload on its way, stopped by a newer one
let maxImageBytes = null; // the API's upload limit, once /api/health has said it

function setBusy(busy, text) {
  document.body.classList.toggle('busy', busy);
  $('result-title').parentElement.setAttribute('aria-busy', String(busy));
  for (const id of ['choose', 'take']) $(id).disabled = busy;
  if (text !== undefined) $('status').textContent = text;
}

function showError(text) {
  $('error').textContent = text;
  $('error').hidden = false;
}

// One sentence: the server's detail is a lower-case clause without a full stop.
const sentence = (text) => (/[.!?]$/.test(text) ? text : `${text}.`);

// The message for an HTTP error: from the API (a JSON body with `error: {code, detail}`) or
// from a gateway in front of it (another body, or none).
function httpErrorMessage(status, body) {
  const error = body && body.error && typeof body.error === 'object' ? body.error : {};
  const detail = typeof error.detail === 'string' ? error.detail.trim() : '';
  const code = typeof error.code === 'string' ? error.code : '';
  switch (status) {
    case 400: return sentence(`That file could not be read as an image: ${detail || 'it may be corrupt or truncated'}`);
    case 401: case 403: return AUTH_MESSAGE;
    case 413: return sentence(`That image is too large${detail ? ` (${detail})` : ''}`) +
      ' Try a smaller one, or drop it into the S3 bucket instead.';
    case 415: return `That file is not a supported image. Use ${FORMATS}.`;
    case 422: return sentence(`One of the options is out of range${detail ? `: ${detail}` : ''}`);
    case 429: return 'The server is busy. Wait a moment and try again.';
    case 500: return 'The server failed while reading this image (a bug on our side' +
      `${body && body.request_id ? `, request ${body.request_id}` : ''}). Try again, or try another image.`;
    case 502: return 'The server is busy or restarting. Try again in a moment.';
    // The server's detail names API options this page does not have (max_regions).
    case 503: return code === 'deadline_exceeded'
      ? 'That took too long to read. Try a smaller image, a shorter word list, or turn off "Find words in a scene".'
      : 'The OCR model is not available right now. Try again later.';
    case 504: return 'The server took too long. Try a smaller image.';
    default: return sentence(`The server answered ${status}${detail ? `: ${detail}` : ''}`);
  }
}

function lexiconWords() {
  return $('lexicon').value.split(/[\s,]+/).map((w) => w.trim()).filter(Boolean);
}

// A new upload starts from a clean slate: no old result, no old error.
function clearResult() {
  $('error').hidden = true;
  $('error').textContent = '';
  $('result').hidden = true;
  $('words').replaceChildren();
  $('annotated').removeAttribute('src');
  $('annotation-note').textContent = '';
  for (const id of ['fulltext', 'timing', 'raw']) $(id).textContent = '';
}

function showPreview(file) {
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = null;
  $('preview').hidden = true;
  $('preview').removeAttribute('src');
  $('drop-text').hidden = false;
  if (!file) return;
  previewUrl = URL.createObjectURL(file);
  // Shown once the browser can draw it: a file it cannot (not an image, or TIFF) leaves
  // the drop zone's text rather than an empty frame.
  $('preview').src = previewUrl;
}

// Megabytes as the limit is set (3,000,000 bytes: 3 MB); a size rounded up, never shown at the limit.
const mb = (bytes, round = Math.round) => `${round(bytes / 10000) / 100} MB`;

function failed(text) {
  showError(text);
  setBusy(false, 'Nothing was read.');
}

async function readImage(file) {
  if (!file) return;
  const request = ++latestRequest;
  // Its answer would be ignored: stop it and free its connection (a read the server began still ends there).
  if (inFlight) inFlight.abort();
  inFlight = null;
  clearResult();
  if (file.type && !ACCEPTED.includes(file.type) && !file.type.startsWith('image/')) {
    showPreview(null);
    failed(`That file is not a supported image. Use ${FORMATS}.`);
    return;
  }
  // The API would refuse it (413) only once it had all of it: say so now, nothing sent.
  if (maxImageBytes && file.size > maxImageBytes) {
    showPreview(null);
    failed(`That image is too large (${mb(file.size, Math.ceil)}; the limit is ${mb(maxImageBytes)}). ` +
      'Try a smaller one, or drop it into the S3 bucket instead.');
    return;
  }
  showPreview(file);

  const form = new FormData();
  form.append('file', file, file.name || 'pasted.png');
  // The word list goes in the body, one field (the API splits it at commas): API Gateway
  // refuses a request line and headers over 10,240 bytes, a few hundred words in the URL.
  const words = lexiconWords();
  if (words.length) form.append('lexicon', words.join(','));
  const params = new URLSearchParams({
    detect: $('detect').checked, beam_width: $('beam').value, min_confidence: $('conf').value, annotate: 'true',
  });

  setBusy(true, `Reading ${file.name || 'the pasted image'}…`);
  const started = performance.now();
  let response;
  let body = null;
  const abort = new AbortController();
  inFlight = abort;
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; abort.abort(); }, UPLOAD_TIMEOUT_MS);
  try {
    response = await fetch(`api/ocr?${params}`, { method: 'POST', body: form, signal: abort.signal });
    try { body = await response.json(); } catch { /* a gateway error page is not JSON */ }
  } catch {
    if (request === latestRequest) {
      failed(timedOut ? TIMEOUT_MESSAGE : 'Could not reach the server. Check the connection and try again.');
    }
    return;
  } finally {
    clearTimeout(timer);
    if (inFlight === abort) inFlight = null;
  }
  if (request !== latestRequest) return;
  if (timedOut) { // stopped while its body was read
    failed(TIMEOUT_MESSAGE);
    return;
  }
  if (!response.ok) {
    failed(httpErrorMessage(response.status, body));
    return;
  }
  if (!body || !Array.isArray(body.words)) {
    failed('The server answered, but not with a reading this page understands. Try again in a moment.');
    return;
  }
  try {
    render(body, performance.now() - started);
  } catch (err) {
    console.error(err);
    clearResult();
    failed(`The image was read, but this page could not show the result (${err.message}).`);
    return;
  }
  setBusy(false, `Found ${body.words.length} word${body.words.length === 1 ? '' : 's'}.`);
}

// The annotated image's type, from its first bytes: a PNG (a transparent source) or a JPEG.
const imageType = (b64) => (b64.startsWith('iVBORw0KGgo') ? 'image/png' : 'image/jpeg');

function render(body, roundTripMs) {
  // The page always asks for the annotated image: null means it did not fit the response.
  if (body.annotated_b64) {
    $('annotated').hidden = false;
    $('annotated').src = `data:${imageType(body.annotated_b64)};base64,${body.annotated_b64}`;
    $('annotation-note').textContent = '';
  } else {
    $('annotated').hidden = true;
    $('annotation-note').textContent = 'The image with the word boxes was too large to send back.';
  }
  $('fulltext').textContent = body.full_text || '(no words found)';
  $('copy').disabled = !body.full_text; // nothing to copy: not the placeholder
  $('timing').textContent =
    `${body.timings_ms.total.toFixed(0)} ms on the server · ${roundTripMs.toFixed(0)} ms round trip · ` +
    `${body.image_size.width}×${body.image_size.height} px`;
  const list = $('words');
  // Numbered as the boxes on the annotated image are (1, 2, … in the API's order).
  list.replaceChildren(...body.words.map((r, i) => {
    const li = document.createElement('li');
    const number = document.createElement('span');
    number.className = 'n';
    number.textContent = String(i + 1);
    const word = document.createElement('span');
    word.className = 'w';
    word.textContent = r.text;
    const meter = document.createElement('span');
    meter.className = 'meter';
    meter.setAttribute('role', 'meter');
    meter.setAttribute('aria-valuemin', '0');
    meter.setAttribute('aria-valuemax', '1');
    meter.setAttribute('aria-valuenow', String(r.confidence));
    meter.setAttribute('aria-label', `confidence of word ${i + 1}, ${r.text}`);
    const fill = document.createElement('span');
    fill.style.width = `${Math.round(r.confidence * 100)}%`;
    meter.append(fill);
    const pct = document.createElement('span');
    pct.textContent = `${Math.round(r.confidence * 100)}%`;
    li.append(number, word, meter, pct);
    return li;
  }));
  $('raw').textContent = JSON.stringify({ ...body, annotated_b64: `(${(body.annotated_b64 || '').length} base64 characters)` }, null, 2);
  $('result').hidden = false;
}

async function loadHealth() {
  try {
    const r = await fetch('api/health');
    if (r.status === 401 || r.status === 403) { $('model').textContent = 'Model info unavailable: this API requires authentication.'; return; }
    let h = null;
    try { h = await r.json(); } catch { /* a gateway error page is not JSON */ }
    if (!h || typeof h !== 'object' || typeof h.model_loaded !== 'boolean') {
      $('model').textContent = `Model info unavailable (the server answered ${r.status}).`;
      return;
    }
    if (Number.isInteger(h.max_image_bytes) && h.max_image_bytes > 0) maxImageBytes = h.max_image_bytes;
    if (!h.model_loaded) { $('model').textContent = `Model not loaded: ${h.error || 'unknown error'}`; return; }
    const m = h.model;
    const acc = m.metrics && (m.metrics.iiit5k_test_word_accuracy ?? m.metrics.iiit5k_test_first300_word_accuracy);
    $('model').textContent = `${m.name} ${m.version}` + (acc !== undefined ? ` · IIIT5K word accuracy ${(acc * 100).toFixed(1)}%` : '');
  } catch (err) {
    $('model').textContent = `Model info unavailable (${err.message}).`;
  }
}

// Two lists: this container's counters (always there) and the service's CloudWatch
// figures, or why they are missing.
async function loadStats() {
  const mine = $('stats-container');
  const service = $('stats-service');
  const row = (k, v) => { const dt = document.createElement('dt'); dt.textContent = k; const dd = document.createElement('dd'); dd.textContent = v; return [dt, dd]; };
  const ms = (v) => (v === null || v === undefined ? '—' : `${v} ms`);
  const count = (v) => (typeof v === 'number' ? v.toLocaleString('en-US') : '—');
  const both = (...rows) => { mine.replaceChildren(...rows); service.replaceChildren(...rows.map((n) => n.cloneNode(true))); };
  try {
    const response = await fetch('api/stats');
    if (response.status === 401 || response.status === 403) { both(...row('Status', 'requires authentication')); return; }
    if (!response.ok) { both(...row('Status', `unavailable (the server answered ${response.status})`)); return; }
    const s = await response.json();
    const c = s.container;
    if (c) {
      const lat = c.latency_ms || {};
      mine.replaceChildren(
        ...row('Requests', count(c.requests)), ...row('Images', count(c.images_processed)),
        ...row('Words', count(c.words_recognized)), ...row('Errors', count(c.errors)),
        ...row('Latency p50', ms(lat.p50)), ...row('Latency p90', ms(lat.p90)), ...row('Latency p99', ms(lat.p99)));
    } else {
      mine.replaceChildren(...row('Status', 'not reported by this server'));
    }
    if (s.available) {
      service.replaceChildren(
        ...row('Images', count(s.images_processed)), ...row('Words', count(s.words_recognized)),
        ...row('Errors', count(s.errors)), ...row('Avg time', ms(s.avg_inference_ms)),
        ...row('Window', `${s.window_hours} h`));
    } else {
      // The reason under the status, across the panel (a second dd of the same dt).
      const why = document.createElement('dd');
      why.id = 'stats-service-why';
      why.className = 'muted small';
      Object.assign(why.style, { gridColumn: '1 / -1', textAlign: 'left' });
      why.textContent = s.reason || 'No reason was given.';
      service.replaceChildren(...row('Status', 'unavailable'), why);
    }
  } catch (err) {
    both(...row('Status', `unavailable (${err.message})`));
  }
}

function wire() {
  const drop = $('drop');
  const pick = () => $('file').click();
  $('choose').addEventListener('click', pick);
  drop.addEventListener('click', pick);
  drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); pick(); } });
  // Emptied once taken: an input holding a file fires no change when that file is chosen
  // again, and choosing it again is how one retries after a failure.
  const take = (e) => { const file = e.target.files[0]; e.target.value = ''; readImage(file); };
  $('file').addEventListener('change', take);
  $('camera').addEventListener('change', take);
  $('take').addEventListener('click', () => $('camera').click());
  $('preview').addEventListener('load', () => {
    if (!$('preview').getAttribute('src')) return; // a load of a preview already replaced
    $('preview').hidden = false;
    $('drop-text').hidden = true;
  });
  $('preview').addEventListener('error', () => { $('preview').hidden = true; $('drop-text').hidden = false; });
  for (const ev of ['dragenter', 'dragover']) drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add('over'); });
  for (const ev of ['dragleave', 'drop']) drop.addEventListener(ev, () => drop.classList.remove('over'));
  // A file dropped anywhere on the page is read: one that misses the drop zone would
  // otherwise be opened by the browser in place of the page. Text drags (into the word
  // list) keep their default.
  const hasFiles = (e) => [...(e.dataTransfer?.types || [])].includes('Files');
  for (const ev of ['dragenter', 'dragover']) document.addEventListener(ev, (e) => { if (hasFiles(e)) e.preventDefault(); });
  document.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    readImage(e.dataTransfer.files[0]);
  });
  // Pasting into the word list is typing: spreadsheets put a picture of the cells beside
  // their text, which must not be uploaded.
  document.addEventListener('paste', (e) => {
    if (e.target instanceof Element && e.target.closest('textarea, input, [contenteditable]')) return;
    const item = [...(e.clipboardData?.items || [])].find((i) => i.kind === 'file' && i.type.startsWith('image/'));
    if (!item) return;
    e.preventDefault();
    readImage(item.getAsFile());
  });
  $('copy').addEventListener('click', async () => {
    if ($('copy').disabled) return;
    try { await navigator.clipboard.writeText($('fulltext').textContent); $('copy').textContent = 'Copied'; }
    catch { $('copy').textContent = 'Select and copy'; }
    setTimeout(() => { $('copy').textContent = 'Copy text'; }, 1500);
  });
  $('beam').addEventListener('input', () => { $('beam-out').textContent = $('beam').value; });
  $('conf').addEventListener('input', () => { $('conf-out').textContent = Number($('conf').value).toFixed(2); });
  // Offer the camera only where there is one.
  navigator.mediaDevices?.enumerateDevices?.().then((devices) => {
    $('take').hidden = !devices.some((d) => d.kind === 'videoinput');
  }).catch(() => {});
}

wire();
loadHealth();
loadStats();
setInterval(loadStats, 30000);
