// Certificates: every filter of find (GET /v1/certificates), paging by the
// cursor (next_after; a stack of cursors for going back), the details of
// one with every extension decoded, downloads, revoke and unhold.
import { json, raw, may } from '../api.js';
import { h, field, table, date, showError, errorSlot, pemBlocks, download, busy } from '../util.js';
import * as der from '../der.js';

const REASONS = [[0, 'unspecified'], [1, 'keyCompromise'], [2, 'cACompromise'], [3, 'affiliationChanged'],
  [4, 'superseded'], [5, 'cessationOfOperation'], [6, 'certificateHold'], [9, 'privilegeWithdrawn']];

const FILTERS = [
  ['cn', 'Common name contains', 'text'], ['profile', 'Profile', 'text'],
  ['usage', 'Usage', ['all', 'identity', 'trust']], ['key_type', 'Key type', ['', 'RSA', 'EC']],
  ['key_bits', 'Key bits', 'number'], ['status', 'Status', ['', 'good', 'revoked']],
  ['issuer', 'Issuer (CA name)', 'text'], ['store', 'Trust store', 'text'], ['cluster', 'Cluster', 'text'],
  ['expires_before', 'Expires before', 'date'], ['expires_after', 'Expires on or after', 'date'],
  ['limit', 'Page size', 'number'],
];

function control([name, , kind]) {
  if (Array.isArray(kind)) {
    return h('select', { name, id: `f-${name}` }, kind.map((v) => h('option', { value: v }, v || 'any')));
  }
  return h('input', { name, id: `f-${name}`, type: kind, min: kind === 'number' ? '1' : undefined, max: name === 'limit' ? '1000' : undefined, value: name === 'limit' ? '100' : undefined });
}

function certPath(c, format) {
  if (c.usage === 'trust') return `/v1/trust/${encodeURIComponent(c.store)}/${c.fingerprint}${format ? `?format=${format}` : ''}`;
  const q = new URLSearchParams();
  if (format) q.set('format', format);
  if (c.issuer) q.set('issuer', c.issuer);
  return `/v1/certificates/${encodeURIComponent(c.serial)}?${q}`;
}

async function fetchBytes(path) {
  const r = await raw('GET', path);
  return new Uint8Array(await r.arrayBuffer());
}

function details(c, pane, reload) {
  pane.replaceChildren(h('h3', { id: 'detail-title', tabindex: '-1' }, `Certificate ${c.serial}`));
  const info = h('dl', { class: 'kv' });
  for (const [k, v] of [['Subject', c.subject], ['Issuer', c.issuer], ['Profile', c.profile], ['Status', c.status],
    ['Usage', c.usage], ['Store', c.store], ['Cluster', c.cluster], ['Key', `${c.keyType || ''} ${c.keyBits || ''}`],
    ['Not before', date(c.notBefore)], ['Not after', date(c.notAfter)], ['Requester', c.requester],
    ['Revoked at', date(c.revokedAt)], ['Reason', c.revokedAt ? String(c.revocationReason || 0) : ''],
    ['SANs', (c.sans || []).join(', ')], ['Fingerprint', c.fingerprint]]) {
    if (v && String(v).trim()) info.append(h('dt', {}, k), h('dd', k === 'Status' ? { id: 'detail-status' } : {}, v));
  }
  pane.append(info);
  const decoded = h('div', { id: 'detail-decoded' });
  pane.append(decoded);
  fetchBytes(certPath(c, 'pem')).then((b) => {
    const d = pemBlocks(new TextDecoder().decode(b), 'CERTIFICATE')[0];
    const x = der.certificate(d);
    decoded.append(h('h4', {}, 'Decoded'), h('dl', { class: 'kv' },
      ['Version', x.version, 'Serial', x.serial, 'Signature', x.sigAlg, 'Key', x.key, 'Subject', x.subject,
        'Issuer', x.issuer, 'Not before', x.notBefore, 'Not after', x.notAfter]
        .map((v, i, a) => (i % 2 ? null : [h('dt', {}, v), h('dd', {}, String(a[i + 1]))])).filter(Boolean).flat()),
    h('h4', {}, `Extensions (${x.extensions.length})`),
    h('ul', { class: 'extensions' }, x.extensions.map((e) => h('li', {}, h('strong', {}, e.name),
      e.critical ? ' (critical)' : '', e.name === e.oid ? '' : h('span', { class: 'muted' }, ` ${e.oid}`),
      h('ul', {}, e.lines.map((l) => h('li', { class: 'mono' }, l)))))));
  }).catch((e) => { const s = errorSlot(); showError(s, e); decoded.append(s); });

  const dl = h('div', { class: 'row' });
  const base = c.usage === 'trust' ? c.fingerprint.slice(0, 16) : c.serial;
  for (const [fmt, label, ext] of [['pem', 'PEM', 'pem'], ['der', 'DER', 'cer'], ['p7b', 'PKCS#7 (DER)', 'p7b'], ['p7b-pem', 'PKCS#7 (PEM)', 'p7b.pem']]) {
    dl.append(h('button', { type: 'button', class: 'secondary', onclick: async () => {
      try { download(`${base}.${ext}`, await fetchBytes(certPath(c, fmt))); } catch (e) { showError(err, e); }
    } }, `Download ${label}`));
  }
  const err = errorSlot();
  pane.append(h('h4', {}, 'Download'), dl, err);

  if (c.usage !== 'trust' && may('revoker')) {
    const reason = h('select', { id: 'revoke-reason' }, REASONS.map(([v, n]) => h('option', { value: v }, `${n} (${v})`)));
    const rerr = errorSlot();
    rerr.id = 'revoke-error';
    // The pane follows what the API answered, so that it never offers to
    // revoke what is revoked (the list is read again too).
    const shown = (status, held) => {
      const st = pane.querySelector('#detail-status');
      if (st) st.textContent = status;
      revoke.disabled = status === 'revoked';
      unhold.disabled = !held;
    };
    const revoke = h('button', { type: 'button', class: 'danger', id: 'revoke', onclick: async () => {
      try {
        const r = await json('POST', `/v1/certificates/${encodeURIComponent(c.serial)}:revoke`, { reason: Number(reason.value), issuer: c.issuer });
        showError(rerr, null);
        rerr.classList.remove('error');
        rerr.append(h('span', { class: 'ok', id: 'revoke-done' }, `${r.status} at ${date(r.revokedAt)}; in the CRL by ${date(r.crlDueAt)}`));
        shown(r.status, Number(reason.value) === 6);
        reload();
      } catch (e) { showError(rerr, e); }
    } }, 'Revoke');
    const unhold = h('button', { type: 'button', class: 'secondary', id: 'unhold', onclick: async () => {
      try {
        const r = await json('POST', `/v1/certificates/${encodeURIComponent(c.serial)}:unhold`, { issuer: c.issuer });
        showError(rerr, null);
        rerr.append(h('span', { class: 'ok' }, `hold lifted: ${r.status}`));
        shown(r.status, false);
        reload();
      } catch (e) { showError(rerr, e); }
    } }, 'Lift hold');
    shown(c.status || 'good', c.status === 'revoked' && Number(c.revocationReason) === 6);
    const act = h('div', { class: 'row' }, field('Revocation reason', reason), revoke, unhold);
    pane.append(h('h4', {}, 'Revocation'), act, rerr);
  }
  pane.querySelector('#detail-title').focus();
}

export async function render(box) {
  box.append(h('h2', { id: 'certificates-title' }, 'Certificates'));
  const form = h('form', { id: 'find-form', 'aria-label': 'Find certificates' },
    h('div', { class: 'row' }, FILTERS.map((f) => field(f[1], control(f)))),
    h('div', { class: 'row' }, h('button', { type: 'submit', id: 'find' }, 'Find')));
  const err = errorSlot();
  const results = h('div', { id: 'find-results' });
  const pager = h('div', { class: 'row' });
  const pane = h('section', { id: 'detail', 'aria-live': 'polite' });
  box.append(form, err, results, pager, pane);
  const cursors = [''];
  let page = 0;

  const query = () => {
    const q = new URLSearchParams();
    for (const el of form.elements) {
      if (!el.name || !el.value || (el.name === 'usage' && el.value === 'all')) continue;
      q.set(el.name, el.value);
    }
    return q;
  };

  const load = async () => {
    const q = query();
    if (cursors[page]) q.set('after', cursors[page]);
    try {
      const r = await busy('Finding certificates', () => json('GET', `/v1/certificates?${q}`));
      showError(err, null);
      const list = r.certificates || [];
      cursors[page + 1] = r.nextAfter || '';
      results.replaceChildren(table(['Serial', 'Common name', 'Profile / store', 'Status', 'Key', 'Not after', ''],
        list.map((c) => [h('td', { class: 'mono' }, c.serial), c.commonName || c.subject, c.profile || c.store || '',
          h('td', { class: `status-${c.status || 'good'}` }, c.status || 'good'), `${c.keyType || ''} ${c.keyBits || ''}`,
          date(c.notAfter), h('button', { type: 'button', class: 'secondary', 'aria-label': `Details of ${c.serial}`, onclick: () => details(c, pane, load) }, 'Details')]),
        `Page ${page + 1}: ${list.length} certificate(s)`));
      pager.replaceChildren(
        h('button', { type: 'button', class: 'secondary', id: 'prev', disabled: page === 0, onclick: () => { page--; load(); } }, 'Previous page'),
        h('button', { type: 'button', class: 'secondary', id: 'next', disabled: !r.nextAfter, onclick: () => { page++; load(); } }, 'Next page'));
    } catch (e) { showError(err, e); }
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); page = 0; cursors.length = 1; load(); });
  await load();
}
