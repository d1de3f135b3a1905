// The OCR page: no framework, no build step. Every URL is relative to the page, so it
// works at / on a laptop and under an API Gateway stage prefix alike.
'use strict';

const $ = (id) => document.getElementById(id);
const ACCEPTED = ['image/png', 'image/jpeg', 'image/bmp', 'image/tiff', 'image/webp', 'image/gif'];
const MESSAGES = {
  400: 'That file could not be read as an image (it may be corrupt or truncated).',
  401: 'This API requires authentication (deployed with ApiAuth), which this page does not send. Call the API with a token.',
  403: 'This API requires authentication (deployed with ApiAuth), which this page does not send. Call the API with a token.',
  413: 'That image is too large. Try a smaller one, or drop it into the S3 bucket instead.',
  415: 'That file is not a supported image. Use PNG, JPEG, BMP, TIFF or WebP.',
  422: 'One of the options is out of range.',
  429: 'The server is busy. Wait a moment and try again.',
  502: 'The server is busy or restarting. Try again in a moment.',
  503: 'The OCR model is not available right now. Try again later.',
  504: 'The server took too long. Try a smaller image.',
};

let previewUrl = null;

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

function lexiconWords() {
  return $('lexicon').value.split(/[\s,]+/).map((w) => w.trim()).filter(Boolean);
}

async function readImage(file) {
  if (!file) return;
  $('error').hidden = true;
  if (file.type && !ACCEPTED.includes(file.type) && !file.type.startsWith('image/')) {
    showError(MESSAGES[415]);
    return;
  }
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = URL.createObjectURL(file);
  $('preview').src = previewUrl;
  $('preview').hidden = false;
  $('drop-text').hidden = true;

  const form = new FormData();
  form.append('file', file, file.name || 'pasted.png');
  const params = new URLSearchParams({
    detect: $('detect').checked, beam_width: $('beam').value, min_confidence: $('conf').value, annotate: 'true',
  });
  for (const w of lexiconWords()) params.append('lexicon', w);

  setBusy(true, `Reading ${file.name || 'the pasted image'}…`);
  const started = performance.now();
  try {
    const response = await fetch(`api/ocr?${params}`, { method: 'POST', body: form });
    let body = null;
    try { body = await response.json(); } catch { /* a gateway error page is not JSON */ }
    if (!response.ok) {
      const detail = body && body.detail ? ` (${body.detail})` : '';
      showError((MESSAGES[response.status] || `The server answered ${response.status}.`) + detail);
      setBusy(false, 'Nothing was read.');
      return;
    }
    render(body, performance.now() - started);
    setBusy(false, `Found ${body.region_count} word${body.region_count === 1 ? '' : 's'}.`);
  } catch (err) {
    showError(`Could not reach the server: ${err.message}.`);
    setBusy(false, 'Nothing was read.');
  }
}

function render(body, roundTripMs) {
  $('result').hidden = false;
  $('annotated').src = body.annotated_b64
    ? `data:${body.annotated_mime || 'image/jpeg'};base64,${body.annotated_b64}` : '';
  $('annotated').alt = body.annotation_note || 'The image with numbered boxes around the words found';
  $('fulltext').textContent = body.full_text || '(no words found)';
  $('timing').textContent =
    `${body.inference_ms.toFixed(0)} ms on the server · ${roundTripMs.toFixed(0)} ms round trip · ` +
    `${body.image_size.width}×${body.image_size.height} px`;
  const list = $('words');
  list.replaceChildren(...body.regions.map((r) => {
    const li = document.createElement('li');
    const word = document.createElement('span');
    word.className = 'w';
    word.textContent = r.text;
    const meter = document.createElement('span');
    meter.className = 'meter';
    meter.setAttribute('role', 'meter');
    meter.setAttribute('aria-valuemin', '0');
    meter.setAttribute('aria-valuemax', '1');
    meter.setAttribute('aria-valuenow', String(r.confidence));
    meter.setAttribute('aria-label', `confidence of ${r.text}`);
    const fill = document.createElement('span');
    fill.style.width = `${Math.round(r.confidence * 100)}%`;
    meter.append(fill);
    const pct = document.createElement('span');
    pct.textContent = `${Math.round(r.confidence * 100)}%`;
    li.append(word, meter, pct);
    return li;
  }));
  $('raw').textContent = JSON.stringify({ ...body, annotated_b64: `(${(body.annotated_b64 || '').length} base64 characters)` }, null, 2);
}

async function loadHealth() {
  try {
    const r = await fetch('api/health');
    const h = await r.json();
    if (!h.model_loaded) { $('model').textContent = `Model not loaded: ${h.error || 'unknown error'}`; return; }
    const m = h.model;
    const acc = m.metrics && (m.metrics.iiit5k_test_word_accuracy ?? m.metrics.iiit5k_test_first300_word_accuracy);
    $('model').textContent = `${m.name} ${m.version}` + (acc !== undefined ? ` · IIIT5K word accuracy ${(acc * 100).toFixed(1)}%` : '');
  } catch (err) {
    $('model').textContent = `Model info unavailable (${err.message}).`;
  }
}

async function loadStats() {
  const dl = $('stats');
  const row = (k, v) => { const dt = document.createElement('dt'); dt.textContent = k; const dd = document.createElement('dd'); dd.textContent = v; return [dt, dd]; };
  try {
    const response = await fetch('api/stats');
    if (response.status === 401 || response.status === 403) {
      dl.replaceChildren(...row('Status', 'requires authentication'));
      return;
    }
    const s = await response.json();
    if (!s.available) { dl.replaceChildren(...row('Status', 'unavailable'), ...row('Why', s.reason || '')); return; }
    dl.replaceChildren(
      ...row('Images', s.images_processed), ...row('Words', s.words_recognized), ...row('Errors', s.errors),
      ...row('Avg time', s.avg_inference_ms === null ? '—' : `${s.avg_inference_ms} ms`),
      ...row('Window', `${s.window_hours} h`));
  } catch (err) {
    dl.replaceChildren(...row('Status', `unavailable (${err.message})`));
  }
}

function wire() {
  const drop = $('drop');
  const pick = () => $('file').click();
  $('choose').addEventListener('click', pick);
  drop.addEventListener('click', pick);
  drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); pick(); } });
  $('file').addEventListener('change', (e) => readImage(e.target.files[0]));
  $('camera').addEventListener('change', (e) => readImage(e.target.files[0]));
  $('take').addEventListener('click', () => $('camera').click());
  for (const ev of ['dragenter', 'dragover']) drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add('over'); });
  for (const ev of ['dragleave', 'drop']) drop.addEventListener(ev, () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); readImage(e.dataTransfer.files[0]); });
  document.addEventListener('paste', (e) => {
    const item = [...(e.clipboardData?.items || [])].find((i) => i.kind === 'file' && i.type.startsWith('image/'));
    if (item) readImage(item.getAsFile());
  });
  $('copy').addEventListener('click', async () => {
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
