// Expiry monitor: the settings of CUCM's Certificate Monitor (days before
// expiry, frequency, e-mail on or off, addresses, SMTP), webhooks, the
// expiring list, and "check now".
import { json, may } from '../api.js';
import { h, field, table, date, showError, errorSlot, busy } from '../util.js';

export async function render(box) {
  box.append(h('h2', { id: 'monitor-title' }, 'Expiry monitor'));
  const cfg = await json('GET', '/v1/monitor');
  const admin = may('admin');
  const enabled = h('input', { type: 'checkbox', id: 'mon-enabled', checked: !!cfg.enabled, disabled: !admin });
  const start = h('input', { type: 'number', id: 'mon-days', min: '1', max: '3650', value: cfg.startDays || 30, disabled: !admin });
  const freq = h('input', { type: 'text', id: 'mon-frequency', value: cfg.frequency || '', disabled: !admin });
  const emails = h('textarea', { id: 'mon-emails', disabled: !admin }, (cfg.emails || []).join('\n'));
  const host = h('input', { type: 'text', id: 'mon-smtp-host', value: cfg.smtpHost || '', disabled: !admin });
  const port = h('input', { type: 'number', id: 'mon-smtp-port', value: cfg.smtpPort || 25, disabled: !admin });
  const from = h('input', { type: 'text', id: 'mon-smtp-from', value: cfg.smtpFrom || '', disabled: !admin });
  const hooks = h('textarea', { id: 'mon-webhooks', disabled: !admin || cfg.destinationsHidden },
    (cfg.webhookDestinations || []).map((d) => `${d.url}${d.allowPrivate ? ' private' : ''}`).join('\n'));
  const err = errorSlot();
  err.id = 'mon-error';
  const saved = h('p', { class: 'ok', 'aria-live': 'polite' });
  const form = h('form', { id: 'mon-form', 'aria-label': 'Monitor settings' },
    h('label', { class: 'inline', for: 'mon-enabled' }, enabled, 'Send notices (e-mail and webhooks)'),
    h('div', { class: 'row' }, field('Days before expiry to start notifying', start),
      field('Frequency (1h to 30d: 12h, 1d, 7d...)', freq)),
    field('E-mail addresses, one a line', emails),
    h('div', { class: 'row' }, field('SMTP host', host), field('SMTP port', port), field('From address', from)),
    field('Webhook URLs, one a line; add " private" to allow a private address', hooks,
      cfg.destinationsHidden ? 'Webhook destinations are hidden from this role; they are kept as they are.' : ''),
    admin ? h('div', { class: 'row' }, h('button', { type: 'submit', id: 'mon-save' }, 'Save settings')) : null,
    err, saved, h('p', { class: 'muted' }, cfg.updatedAt ? `Last changed ${date(cfg.updatedAt)} by ${cfg.updatedBy || '?'}` : ''));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const lines = (t) => t.split('\n').map((s) => s.trim()).filter(Boolean);
    const body = { enabled: enabled.checked, startDays: Number(start.value), frequency: freq.value.trim(), emails: lines(emails.value),
      smtpHost: host.value.trim(), smtpPort: Number(port.value), smtpFrom: from.value.trim() };
    if (cfg.destinationsHidden) body.keepWebhooks = true;
    else body.webhookDestinations = lines(hooks.value).map((l) => { const [url, p] = l.split(/\s+/); return { url, allowPrivate: p === 'private' }; });
    try { await json('PUT', '/v1/monitor', body); showError(err, null); saved.textContent = 'Saved.'; } catch (ex) { saved.textContent = ''; showError(err, ex); }
  });
  box.append(form);

  const days = h('input', { type: 'number', id: 'exp-days', min: '0', max: '3650', value: cfg.startDays || 30 });
  const list = h('div', { id: 'exp-list' });
  const lerr = errorSlot();
  const load = async () => {
    try {
      const r = await busy('Reading the expiring certificates', () => json('GET', `/v1/monitor/expiring?days=${Number(days.value)}`));
      showError(lerr, null);
      const all = r.certificates || [];
      // A table of thousands of rows is unreadable and slow to lay out:
      // the first SHOWN, soonest first, and the count of all.
      const SHOWN = 500;
      list.replaceChildren(table(['Kind', 'Name', 'Serial', 'Profile / store', 'Expires', 'Days left'], all.slice(0, SHOWN).map((c) => [
        c.kind, c.commonName || c.subject, h('td', { class: 'mono' }, c.serial || ''), c.profile || c.store || '', date(c.notAfter), String(c.daysLeft || 0)]),
      `${all.length} certificate(s) expiring within ${r.days || 0} days or expired in the last 30${all.length > SHOWN ? `; the first ${SHOWN} shown (Certificates finds the rest)` : ''}`));
    } catch (ex) { showError(lerr, ex); }
  };
  const lform = h('form', { 'aria-label': 'Expiring certificates' }, h('div', { class: 'row' }, field('Within days', days), h('button', { type: 'submit', id: 'exp-show' }, 'Show')));
  lform.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  box.append(h('h3', {}, 'Expiring certificates'), lform, lerr, list);
  if (admin) {
    const cerr = errorSlot();
    cerr.id = 'check-error';
    const res = h('pre', { id: 'check-result', hidden: true });
    box.append(h('h3', {}, 'Check now'), h('button', { type: 'button', id: 'check-now', onclick: async () => {
      try {
        const r = await busy('Checking', () => json('POST', '/v1/monitor:check'));
        showError(cerr, null);
        res.textContent = JSON.stringify(r, null, 2);
        res.hidden = false;
      } catch (ex) { showError(cerr, ex); }
    } }, 'Check now'), cerr, res);
  }
  // The expiring list reads every certificate's expiry: on millions of
  // rows that takes minutes, so it is read when asked ("Show").
  list.replaceChildren(h('p', { class: 'muted', id: 'exp-hint' }, 'Choose the days and press Show (on millions of certificates this takes a while).'));
}
