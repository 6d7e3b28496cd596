// The audit log with filters. pkid records every change (audit table) but
// serves no call to read it yet: this page asks GET /v1/audit and says so
// when it is absent, so that adding the call server-side is all it takes.
import { json } from '../api.js';
import { h, field, table, date, showError, errorSlot } from '../util.js';

export async function render(box) {
  box.append(h('h2', { id: 'audit-title' }, 'Audit log'));
  const actor = h('input', { type: 'text', id: 'audit-actor' });
  const action = h('input', { type: 'text', id: 'audit-action' });
  const since = h('input', { type: 'date', id: 'audit-since' });
  const err = errorSlot();
  const out = h('div', { id: 'audit-list' });
  const form = h('form', { 'aria-label': 'Filter the audit log' }, h('div', { class: 'row' }, field('Actor', actor), field('Action', action),
    field('Since', since), h('button', { type: 'submit' }, 'Show')), err);
  const load = async () => {
    const q = new URLSearchParams();
    if (actor.value) q.set('actor', actor.value);
    if (action.value) q.set('action', action.value);
    if (since.value) q.set('since', since.value);
    try {
      const r = await json('GET', `/v1/audit?${q}`);
      showError(err, null);
      out.replaceChildren(table(['Time', 'Actor', 'Action', 'Object', 'From', 'Outcome'], (r.events || []).map((e) => [date(e.at), e.actor, e.action, e.object, e.remote, e.outcome])));
    } catch (ex) {
      if (ex.status === 404) out.replaceChildren(h('p', { class: 'muted', id: 'audit-absent' }, 'This pkid serves no audit log call yet (GET /v1/audit): the events are in its database, table audit_log.'));
      else showError(err, ex);
    }
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  box.append(form, out);
  await load();
}
