// Keeps the batch page's progress up to date without reloading it: server-sent events from
// GET /api/batches/:id/events (the browser reconnects by itself, after a server restart too), or,
// where the stream cannot be had, a look at GET /api/batches/:id every few seconds. When the batch
// ends, the live part of the page is replaced with the server's rendering of the finished batch
// (its outcomes, findings and downloads). A file, not an inline script: the CSP allows no other.
// Without script the page still works: it says where it was, with a link to refresh it.

const live = document.getElementById('batch-live');
const POLL_MS = 3000;

function set(field, text) {
  for (const element of live.querySelectorAll(`[data-field="${field}"]`)) element.textContent = text;
}

const number = (n) => Number(n).toLocaleString('en-GB');

function show(batch) {
  set('stageText', batch.stageText);
  const tag = live.querySelector('[data-field="tag"] .nhsuk-tag');
  if (tag) {
    tag.className = `nhsuk-tag ${batch.tag.classes}`;
    tag.textContent = batch.tag.text;
  }
  const of = batch.rows === null ? '' : ` of ${number(batch.rows)}`;
  const percent = batch.percent === null ? '' : ` (${batch.percent}%)`;
  set('doneText', `${number(batch.done)} done${of}${percent}`);
  set('rateText', batch.rowsPerSecond > 0 ? `${batch.rowsPerSecond} rows a second` : 'Measuring…');
  set('timeLeft', batch.timeLeft ?? 'Not known yet');
  const bar = live.querySelector('#batch-progress');
  if (bar && batch.rows) {
    bar.max = batch.rows;
    bar.value = batch.done;
    bar.textContent = `${batch.percent ?? 0}%`;
  }
  for (const [status, count] of Object.entries(batch.byStatus)) {
    const cell = live.querySelector(`[data-status="${status}"]`);
    if (cell) cell.textContent = number(count);
    const meter = live.querySelector(`[data-meter="${status}"]`);
    if (meter) {
      meter.max = Math.max(1, batch.done);
      meter.value = count;
    }
  }
  const warning = live.querySelector('#low-match');
  if (warning) {
    warning.hidden = !batch.lowMatch;
    if (batch.lowMatch) {
      set('lowMatchPercent', `${batch.lowMatch.percent}%`);
      set('lowMatchRows', number(batch.lowMatch.rows));
      set('lowMatchThreshold', String(batch.lowMatch.threshold));
    }
  }
}

let finishing = false;

/** The finished batch as the server renders it, in place of the live part: no reload. */
async function finish() {
  if (finishing) return;
  finishing = true;
  const response = await fetch(window.location.pathname, { credentials: 'same-origin', headers: { accept: 'text/html' } });
  if (!response.ok || new URL(response.url).pathname !== window.location.pathname) {
    // Signed out meanwhile, or the batch is gone: the page itself says what to do.
    window.location.reload();
    return;
  }
  const page = new DOMParser().parseFromString(await response.text(), 'text/html');
  const fresh = page.getElementById('batch-live');
  if (fresh) live.replaceWith(document.adoptNode(fresh));
}

function poll(url) {
  const look = async () => {
    try {
      const response = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } });
      if (response.status === 401) {
        window.location.reload();
        return;
      }
      if (response.ok) {
        const batch = await response.json();
        show(batch);
        if (batch.ended) return finish();
      }
    } catch {
      // The server is away (restarting): look again later.
    }
    setTimeout(look, POLL_MS);
  };
  look();
}

function follow() {
  const id = live.dataset.batchId;
  if (!('EventSource' in window)) return poll(`/api/batches/${id}`);
  const events = new EventSource(`/api/batches/${id}/events`);
  events.addEventListener('progress', (event) => show(JSON.parse(event.data)));
  events.addEventListener('end', () => {
    events.close();
    finish();
  });
  events.addEventListener('error', () => {
    // A network drop is retried by the browser itself; a refusal (signed out) or a server that
    // answers but not with a stream closes it: then polling says what happened.
    if (events.readyState === EventSource.CLOSED) poll(`/api/batches/${id}`);
  });
}

if (live && live.dataset.ended !== 'true') {
  for (const hint of live.querySelectorAll('.app-refresh')) hint.hidden = true;
  follow();
}
