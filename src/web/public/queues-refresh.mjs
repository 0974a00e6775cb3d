// Keeps the queues page up to date without reloading it: a look at GET /api/queues every few
// seconds, its figures written into the page. A file, not an inline script: the CSP allows no
// other. Without script the page still works: it says when its figures are from, with a link.

const live = document.getElementById('queues-live');
const POLL_MS = 5000;
const number = (n) => Number(n).toLocaleString('en-GB');

function showBatches(field, ids) {
  const list = live.querySelector(`[data-list="${field}"]`);
  if (list) {
    list.replaceChildren(
      ...ids.map((id) => {
        const link = document.createElement('a');
        link.href = `/batches/${encodeURIComponent(id)}`;
        link.textContent = id;
        const item = document.createElement('li');
        item.append(link);
        return item;
      }),
    );
  }
  const none = live.querySelector(`[data-empty="${field}"]`);
  if (none) none.hidden = ids.length > 0;
  const count = live.querySelector(`[data-field="${field}"]`);
  if (count) count.textContent = number(ids.length);
}

function show(view) {
  const tags = JSON.parse(live.dataset.tags);
  for (const queue of view.queues ?? []) {
    const row = live.querySelector(`[data-queue="${queue.name}"]`);
    if (!row) continue;
    const tag = row.querySelector('[data-field="state"] .nhsuk-tag');
    if (tag && tags[queue.state]) {
      tag.className = `nhsuk-tag ${tags[queue.state].classes}`;
      tag.textContent = tags[queue.state].text;
    }
    row.querySelector('[data-field="workers"]').textContent = number(queue.workers);
    for (const [state, count] of Object.entries(queue.counts)) {
      const cell = row.querySelector(`[data-count="${state}"]`);
      if (cell) cell.textContent = number(count);
    }
  }
  showBatches('unfinished', view.batches.unfinished.ids);
  showBatches('held', view.batches.held.ids);
  const checked = live.querySelector('[data-field="checkedAt"]');
  if (checked) {
    checked.dateTime = view.checkedAt;
    checked.textContent = new Date(view.checkedAt).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
  }
}

function unreachable(message) {
  const warning = live.querySelector('#queues-unreachable');
  warning.hidden = message === undefined;
  if (message !== undefined) warning.querySelector('[data-field="unreachable"]').textContent = message;
}

async function look() {
  try {
    const response = await fetch('/api/queues', { credentials: 'same-origin', headers: { accept: 'application/json' } });
    if (response.status === 401) {
      // Signed out meanwhile: the page itself says what to do.
      window.location.reload();
      return;
    }
    const answer = await response.json();
    if (response.status === 503) unreachable(answer.message);
    else if (response.ok) {
      // The page was drawn without the queues (Redis away, or a change of mode): draw it afresh.
      if (answer.mode !== live.dataset.mode) {
        window.location.reload();
        return;
      }
      unreachable(undefined);
      show(answer);
    }
  } catch {
    // The server is away (restarting): look again later.
  }
  setTimeout(look, POLL_MS);
}

if (live) {
  for (const hint of live.querySelectorAll('.app-refresh')) hint.hidden = true;
  setTimeout(look, POLL_MS);
}
