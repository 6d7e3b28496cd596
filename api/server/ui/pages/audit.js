// The audit log (GET /v1/audit, admins only): filters, newest first, a page
// at a time; "More" reads the next page with the cursor the last one gave
// and adds its rows below. A refused filter shows the API's code and
// message beside the form. The answer is proto3 JSON: lowerCamel names,
// int64 (id, at) as strings.
import { json } from '../api.js';
import { h, field, date, showError, errorSlot } from '../util.js';

const COLUMNS = ['Time (UTC)', 'Actor', 'Action', 'Object', 'Source', 'Outcome', 'Detail'];

function row(e) {
  return h('tr', {}, [date(e.at), e.actor, e.action, e.object, e.source, e.outcome, e.detail]
    .map((c) => h('td', {}, c || '')));
}

export async function render(box) {
  box.append(h('h2', { id: 'audit-title' }, 'Audit log'));
  const text = (id, placeholder) => h('input', { type: 'text', id, placeholder, autocomplete: 'off' });
  const actor = text('audit-actor', 'token:3:ops');
  const action = text('audit-action', 'revoke, token.*');
  const object = text('audit-object', 'a serial, token:7');
  const outcome = text('audit-outcome', 'ok');
  // Text, not type=date: times are taken too, and a mistake is the API's
  // to name (AUDIT_TIME_INVALID), as for any client.
  const since = text('audit-since', 'YYYY-MM-DD');
  const until = text('audit-until', 'YYYY-MM-DD');
  const limit = h('input', { type: 'number', id: 'audit-limit', value: '100', min: '1', max: '1000' });
  const err = errorSlot();
  err.id = 'audit-error';
  const status = h('p', { id: 'audit-status', class: 'muted', 'aria-live': 'polite', tabindex: '-1' });
  const body = h('tbody', { id: 'audit-rows' });
  const list = h('table', { id: 'audit-list' },
    h('caption', { class: 'muted' }, 'Newest first'),
    h('thead', {}, h('tr', {}, COLUMNS.map((c) => h('th', { scope: 'col' }, c)))), body);
  const more = h('button', { type: 'button', id: 'audit-more', class: 'secondary', hidden: true }, 'More (older events)');
  const form = h('form', { 'aria-label': 'Filter the audit log', id: 'audit-form' },
    h('div', { class: 'row' }, field('Actor', actor), field('Action', action, 'exact, or a prefix ending in *'),
      field('Object', object), field('Outcome', outcome)),
    h('div', { class: 'row' }, field('Since', since, 'from then on; or YYYY-MM-DDTHH:MM:SSZ, Unix seconds'), field('Until', until, 'before then'),
      field('Rows per page', limit), h('button', { type: 'submit', id: 'audit-show' }, 'Show')), err);

  let cursor = '';
  let shown = 0;
  // load reads the first page (|next| false) or the page after the cursor.
  const load = async (next) => {
    const q = new URLSearchParams();
    for (const [k, el] of [['actor', actor], ['action', action], ['object', object], ['outcome', outcome],
      ['since', since], ['until', until], ['limit', limit]]) {
      if (el.value.trim()) q.set(k, el.value.trim());
    }
    if (next) q.set('cursor', cursor);
    more.disabled = true;
    try {
      const r = await json('GET', `/v1/audit?${q}`);
      showError(err, null);
      if (!next) { body.replaceChildren(); shown = 0; }
      const events = r.events || [];
      body.append(...events.map(row));
      shown += events.length;
      cursor = r.nextCursor || '';
      more.hidden = !cursor;
      status.textContent = shown === 0 ? 'No event matches.'
        : `${shown} event${shown === 1 ? '' : 's'} shown${cursor ? '; older ones follow (More)' : ', the last of them'}.`;
      // The More button goes after the last page: keyboard focus stays
      // on the page, at the count.
      if (next && more.hidden) status.focus();
    } catch (ex) {
      showError(err, ex);
      if (!next) { body.replaceChildren(); shown = 0; cursor = ''; more.hidden = true; status.textContent = ''; }
    } finally {
      more.disabled = false;
    }
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); load(false); });
  more.addEventListener('click', () => load(true));
  box.append(form, status, list, more);
  await load(false);
}
