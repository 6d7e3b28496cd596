// Bulk: export a cluster's certificates (a Bundle, or PKCS#7), consolidate
// the bundles of several clusters, import a bundle or a PKCS#12 file.
// Bundles are kept as the JSON of pki.v1.Bundle (what this page exports).
import { json, raw } from '../api.js';
import { h, field, showError, errorSlot, readFile, download, busy, bytesToB64 } from '../util.js';

export async function render(box) {
  box.append(h('h2', { id: 'bulk-title' }, 'Bulk export, consolidate, import'));
  // Export.
  const cluster = h('input', { type: 'text', id: 'bulk-cluster' });
  const type = h('select', { id: 'bulk-type' }, ['all', 'tomcat', 'tomcat-ECDSA', 'CallManager', 'CallManager-ECDSA', 'CAPF'].map((t) => h('option', { value: t }, t)));
  const eerr = errorSlot();
  eerr.id = 'bulk-export-error';
  const exp = h('form', { 'aria-label': 'Export' }, h('div', { class: 'row' }, field('Cluster (empty: this pkid\'s)', cluster), field('Type', type),
    h('button', { type: 'submit', id: 'bulk-export' }, 'Export bundle (JSON)'),
    h('button', { type: 'button', class: 'secondary', id: 'bulk-export-p7b', onclick: async () => {
      try { const r = await raw('GET', `/v1/bulk/export?${q()}&format=p7b`); download('export.p7b', new Uint8Array(await r.arrayBuffer())); showError(eerr, null); } catch (ex) { showError(eerr, ex); }
    } }, 'Export PKCS#7')), eerr);
  const q = () => new URLSearchParams({ type: type.value, ...(cluster.value ? { cluster: cluster.value } : {}) });
  exp.addEventListener('submit', async (e) => {
    e.preventDefault();
    try { const b = await json('GET', `/v1/bulk/export?${q()}`); download(`bundle-${b.cluster || 'cluster'}.json`, JSON.stringify(b, null, 1), 'application/json'); showError(eerr, null); } catch (ex) { showError(eerr, ex); }
  });
  box.append(h('h3', {}, 'Export'), exp);

  // Consolidate.
  const files = h('input', { type: 'file', id: 'bulk-bundles', multiple: true, accept: '.json' });
  const cerr = errorSlot();
  const cres = h('p', { 'aria-live': 'polite' });
  const con = h('form', { 'aria-label': 'Consolidate' }, h('div', { class: 'row' }, field('Bundles of two clusters or more (JSON)', files),
    h('button', { type: 'submit', id: 'bulk-consolidate' }, 'Consolidate')), cerr, cres);
  con.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const bundles = await Promise.all(Array.from(files.files, async (f) => JSON.parse(new TextDecoder().decode(await readFile(f)))));
      const r = await busy('Consolidating', () => json('POST', '/v1/bulk/consolidate', { bundles }));
      showError(cerr, null);
      cres.textContent = `${(r.bundle?.entries || []).length} entries, ${(r.conflicts || []).length} conflicts left out, ${r.duplicates || 0} duplicates dropped.`;
      download('consolidated.json', JSON.stringify(r.bundle || {}, null, 1), 'application/json');
    } catch (ex) { showError(cerr, ex); }
  });
  box.append(h('h3', {}, 'Consolidate'), con);

  // Import.
  const file = h('input', { type: 'file', id: 'bulk-import-file', accept: '.json,.p12,.pfx' });
  const pw = h('input', { type: 'password', id: 'bulk-import-password', autocomplete: 'off' });
  const purpose = h('input', { type: 'text', id: 'bulk-import-purpose' });
  const source = h('input', { type: 'text', id: 'bulk-import-source' });
  const ierr = errorSlot();
  const ires = h('pre', { id: 'bulk-import-result', hidden: true });
  const imp = h('form', { 'aria-label': 'Import' }, h('div', { class: 'row' }, field('Bundle (JSON) or PKCS#12 file', file),
    field('PKCS#12 password', pw), field('PKCS#12 purpose', purpose), field('PKCS#12 source cluster', source),
    h('button', { type: 'submit', id: 'bulk-import' }, 'Import')), ierr, ires);
  imp.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!file.files.length) { showError(ierr, new Error('choose a file')); return; }
    try {
      const bytes = await readFile(file.files[0]);
      const body = /\.json$/i.test(file.files[0].name)
        ? { bundle: JSON.parse(new TextDecoder().decode(bytes)) }
        : { pkcs12: bytesToB64(bytes), password: pw.value, purpose: purpose.value, sourceCluster: source.value };
      const r = await busy('Importing', () => json('POST', '/v1/bulk/import', body));
      showError(ierr, null);
      ires.textContent = `added ${r.added || 0}, replaced ${r.replaced || 0}, unchanged ${r.unchanged || 0}, kept ${r.kept || 0}, skipped ${(r.skippedOwn || 0) + (r.skippedPurpose || 0)}`;
      ires.hidden = false;
    } catch (ex) { showError(ierr, ex); }
  });
  box.append(h('h3', {}, 'Import'), imp);
}
