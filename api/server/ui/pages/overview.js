// Overview: the CAs and their chains, counts by profile and status, what
// expires within 30 days, the responder and CRLs, the last audit events.
import { json, raw, text, may } from '../api.js';
import * as der from '../der.js';
import { h, table, date, daysLeft, showError, errorSlot } from '../util.js';

async function counts() {
  // The statistics snapshot (GET /v1/stats): every certificate, counted in
  // the background by pkid every --stats-interval, with the time it was
  // computed; two small tables read, whatever the number of certificates.
  return json('GET', '/v1/stats');
}

// issuerShown names a group's CA, or what stands for none.
function issuerShown(c) {
  if (c.issuer) return c.issuer;
  return c.kind === 'external' ? '(registered)' : '(self-signed)';
}

// asOf says when the snapshot was computed: "as of <time>".
function asOf(s) {
  return `as of ${date(s.computedAt)} (computed by ${s.computedBy || 'pkid'} in ${Number(s.durationMs || 0)} ms)`;
}

// expiring returns the 20 certificates that expire soonest from now to 30
// days: one bounded find (the notAfter index), whatever the table's size.
async function expiring() {
  const now = Math.floor(Date.now() / 1000);
  const q = new URLSearchParams({ expires_after: String(now), expires_before: String(now + 30 * 86400), limit: '20' });
  const r = await json('GET', `/v1/certificates?${q}`);
  return { list: r.certificates || [], more: !!r.nextAfter };
}

// crls shows each CA's current CRL: number, this and next update,
// entries, read from the CRL itself (public, DER).
async function crls(list, box) {
  const rows = await Promise.all(list.map(async (c) => {
    const link = h('a', { href: `/v1/crl/${encodeURIComponent(c.name)}?format=pem`, download: `${c.name}.crl.pem` }, 'PEM');
    try {
      const r = await raw('GET', `/v1/crl/${encodeURIComponent(c.name)}`);
      const x = der.crl(new Uint8Array(await r.arrayBuffer()));
      const late = x.nextUpdate && Date.parse(x.nextUpdate.replace(' ', 'T')) < Date.now();
      return [c.name, x.number, x.thisUpdate, h('td', { class: late ? 'error' : '' }, x.nextUpdate, late ? ' (overdue)' : ''), String(x.entries), link];
    } catch (e) {
      return [c.name, h('td', { class: 'error', colspan: '4' }, e.code ? `${e.code}: ${e.detail}` : String(e.message || e)), link];
    }
  }));
  box.append(table(['CA', 'CRL number', 'This update', 'Next update', 'Entries', 'Download'], rows));
}

function metric(textBody, name) {
  const re = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm');
  return Array.from(textBody.matchAll(re), (m) => m[0]);
}

export async function render(box) {
  box.append(h('h2', { id: 'overview-title' }, 'Overview'));
  const grid = h('div', { class: 'grid' });
  box.append(grid);
  const cas = h('div', { class: 'card wide', id: 'ov-cas' }, h('h3', {}, 'Certificate authorities'));
  const cnt = h('div', { class: 'card', id: 'ov-counts' }, h('h3', {}, 'Certificates by profile and status'));
  const exp = h('div', { class: 'card', id: 'ov-expiring' }, h('h3', {}, 'Expiring within 30 days'));
  const rsp = h('div', { class: 'card', id: 'ov-revocation' }, h('h3', {}, 'OCSP responder and CRLs'));
  const aud = h('div', { class: 'card', id: 'ov-audit' }, h('h3', {}, 'Last audit events'));
  grid.append(cas, cnt, exp, rsp, aud);
  const tasks = [
    json('GET', '/v1/ca').then((r) => {
      const list = r.cas || [];
      cas.append(table(['Name', 'Role', 'Algorithm', 'Subject', 'Valid until', 'Chain'],
        list.map((c) => [c.name, c.role, c.algorithm, c.subject, `${date(c.notAfter)} (${daysLeft(c.notAfter)} days)`,
          h('a', { href: `/v1/ca/${encodeURIComponent(c.name)}/chain`, download: `${c.name}-chain.pem` }, 'PEM')])));
      const crlBox = h('div', { id: 'ov-crls' });
      rsp.prepend(crlBox);
      rsp.prepend(rsp.querySelector('h3'));
      crls(list, crlBox);
    }),
    counts().then((s) => {
      if (!s.computed) {
        cnt.append(h('p', { class: 'muted', id: 'ov-counts-asof' }, 'No statistics yet: pkid computes them every --stats-interval (pkictl stats --refresh to compute them now).'));
        return;
      }
      const rows = (s.counts || []).map((c) => [issuerShown(c), c.profile, c.status, String(Number(c.count || 0))]);
      cnt.append(h('p', { class: 'muted', id: 'ov-counts-asof' }, asOf(s)),
        table(['CA', 'Profile', 'Status', 'Count'], rows));
      // The expiry counts of /metrics (the expiry monitor's), from the same
      // snapshot.
      const n = (k) => String(Number(s[k] || 0));
      exp.prepend(h('p', { id: 'ov-expiring-counts' },
        `within 1d: ${n('expiringWithin1d')}, within 7d: ${n('expiringWithin7d')}, within 30d: ${n('expiringWithin30d')}, expired: ${n('expired')} (as of ${date(s.computedAt)})`));
      exp.prepend(exp.querySelector('h3'));
    }),
    expiring().then(({ list, more }) => {
      exp.append(table(['Name', 'Profile / store', 'Expires', 'Days'], list.map((c) => [c.commonName || c.subject, c.profile || c.store || '', date(c.notAfter), String(daysLeft(c.notAfter))]),
        more ? 'The 20 soonest (Certificates or the Expiry monitor list them all)' : ''));
    }),
  ];
  // The responder's figures from /metrics, when asked (the expiry counts
  // come from the statistics snapshot above).
  const merr = errorSlot();
  const metricsButton = h('button', { type: 'button', class: 'secondary', id: 'ov-metrics', onclick: () => {
    metricsButton.disabled = true;
    text('GET', '/metrics').then((m) => {
      const lines = [...metric(m, 'pki_ocsp_[a-z_]+'), ...metric(m, 'pki_crl_[a-z_]+'), ...metric(m, 'pki_database_up')];
      rsp.append(h('pre', {}, lines.slice(0, 30).join('\n') || 'no responder figures in /metrics'));
    }).catch((e) => showError(merr, e)).finally(() => metricsButton.remove());
  } }, 'Responder figures (/metrics)');
  rsp.append(metricsButton, merr);
  // The last audit events: admins only (GET /v1/audit), one page of 10.
  if (may('admin')) {
    json('GET', '/v1/audit?limit=10').then((r) => {
      aud.append(table(['Time (UTC)', 'Actor', 'Action', 'Object', 'Outcome'],
        (r.events || []).map((e) => [date(e.at), e.actor || '', e.action || '', e.object || '', e.outcome || '']),
        r.nextCursor ? 'The 10 newest (the Audit log page has them all)' : ''));
    }).catch((e) => { const slot = errorSlot(); showError(slot, e); aud.append(slot); });
  } else {
    aud.append(h('p', { class: 'muted' }, 'Only admins read the audit log.'));
  }
  const results = await Promise.allSettled(tasks);
  const cards = [cas, cnt, exp];
  results.forEach((r, i) => {
    if (r.status === 'rejected') { const e = errorSlot(); showError(e, r.reason); cards[i].append(e); }
  });
}
