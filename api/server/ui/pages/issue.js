// Issue: one or many CSRs (pasted or dropped files) in one batch call,
// per-item results, downloads one by one or as a zip; and keys:generate
// with a PKCS#12 made in the page under a password the user types.
import { json } from '../api.js';
import { h, field, table, showError, errorSlot, readFile, csrDer, bytesToB64, b64ToBytes, pem, download, busy, uid } from '../util.js';
import { zip } from '../zip.js';
import { pkcs12 } from '../pkcs12.js';
import * as der from '../der.js';

export const PROFILES = ['tomcat', 'tomcat-ECDSA', 'CallManager', 'CallManager-ECDSA', 'ipsec', 'CAPF', 'TVS', 'api-client'];
// One call carries at most this many CSRs; more are sent in several.
const CHUNK = 1000;

function profileInput(id) {
  const list = uid('profiles');
  return [h('input', { id, type: 'text', list, required: true, value: 'tomcat', autocomplete: 'off' }),
    h('datalist', { id: list }, PROFILES.map((p) => h('option', { value: p })))];
}

function certName(c, i) {
  let cn = '';
  try { cn = /CN=([^,+]*)/.exec(der.certificate(b64ToBytes(c.certificate)).subject)?.[1] || ''; } catch (_) { /* shown by serial */ }
  return `${String(i + 1).padStart(3, '0')}-${(cn || c.serial).replace(/[^A-Za-z0-9._-]/g, '_')}.pem`;
}

function chainPem(c) {
  return [c.certificate, ...(c.chain || [])].map((b) => pem('CERTIFICATE', b64ToBytes(b))).join('');
}

function batchSection(box) {
  const [profile, dl] = profileInput('issue-profile');
  const days = h('input', { id: 'issue-days', type: 'number', min: '1' });
  const paste = h('textarea', { id: 'issue-csr', spellcheck: 'false' });
  const files = h('input', { id: 'issue-files', type: 'file', multiple: true, accept: '.csr,.pem,.der,.req' });
  const drop = h('div', { class: 'drop', id: 'issue-drop' }, 'Drop CSR files here, or choose them: ', field('CSR files', files));
  const err = errorSlot();
  err.id = 'issue-error';
  const out = h('div', { id: 'issue-results', 'aria-live': 'polite' });
  let dropped = [];
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    dropped = Array.from(e.dataTransfer.files);
    drop.querySelector('small')?.remove();
    drop.append(h('small', {}, ` ${dropped.length} file(s) dropped`));
  });
  const go = h('button', { type: 'submit', id: 'issue-submit' }, 'Issue');
  const form = h('form', { id: 'issue-form', 'aria-label': 'Issue from CSRs' },
    h('div', { class: 'row' }, field('Profile', profile), dl, field('Validity (days, empty: the profile\'s)', days)),
    field('CSR (PEM; several blocks allowed)', paste), drop, h('div', { class: 'row' }, go), err);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    showError(err, null);
    const csrs = [];
    const names = [];
    try {
      csrDer(new TextEncoder().encode(paste.value)).forEach((d, i) => { if (d.length) { csrs.push(d); names.push(`pasted #${i + 1}`); } });
      for (const f of [...files.files, ...dropped]) {
        for (const d of csrDer(await readFile(f))) { csrs.push(d); names.push(f.name); }
      }
    } catch (ex) { showError(err, new Error(`cannot read the CSRs: ${ex.message}`)); return; }
    if (!csrs.length) { showError(err, new Error('no CSR: paste one or choose files')); return; }
    go.disabled = true;
    try {
      const results = await busy('Issuing', async (report) => {
        const all = [];
        for (let i = 0; i < csrs.length; i += CHUNK) {
          report(i, csrs.length, `Issuing: ${i} of ${csrs.length} sent`);
          const items = csrs.slice(i, i + CHUNK).map((c) => ({ csr: bytesToB64(c), ...(days.value ? { validityDays: Number(days.value) } : {}) }));
          const r = await json('POST', '/v1/certificates:batchIssue', { profile: profile.value, items });
          all.push(...(r.results || []));
        }
        return all;
      });
      const issued = results.filter((r) => r.certificate).map((r) => r.certificate);
      out.replaceChildren(h('p', { id: 'issue-summary' }, `${issued.length} issued, ${results.length - issued.length} refused`),
        ...(issued.length > 1 ? [h('button', { type: 'button', id: 'issue-zip', onclick: () => download('certificates.zip',
          zip(issued.map((c, i) => ({ name: certName(c, i), data: new TextEncoder().encode(chainPem(c)) })))) }, `Download all ${issued.length} as zip`)] : []),
        table(['#', 'Source', 'Result', ''], results.map((r, i) => [String(i + 1), names[i],
          r.certificate ? h('td', { class: 'ok mono' }, `serial ${r.certificate.serial}`) : h('td', { class: 'error' }, h('code', {}, r.error?.code || ''), ` ${r.error?.message || ''}`),
          r.certificate ? h('button', { type: 'button', class: 'secondary', 'aria-label': `Download certificate ${i + 1}`, onclick: () => download(certName(r.certificate, i), chainPem(r.certificate), 'application/x-pem-file') }, 'Download') : ''])));
    } catch (ex) { showError(err, ex); } finally { go.disabled = false; }
  });
  box.append(h('h3', {}, 'From CSRs'), form, out);
}

function generateSection(box) {
  const [profile, dl] = profileInput('gen-profile');
  const inputs = {
    commonName: h('input', { id: 'gen-cn', type: 'text', required: true }),
    organization: h('input', { id: 'gen-o', type: 'text' }),
    organizationalUnit: h('input', { id: 'gen-ou', type: 'text' }),
    locality: h('input', { id: 'gen-l', type: 'text' }),
    state: h('input', { id: 'gen-st', type: 'text' }),
    country: h('input', { id: 'gen-c', type: 'text', maxlength: '2', size: '3' }),
  };
  const sans = h('input', { id: 'gen-sans', type: 'text', size: '40' });
  const keyType = h('select', { id: 'gen-key' }, ['', 'RSA-2048', 'RSA-3072', 'RSA-4096', 'EC-P256', 'EC-P384'].map((k) => h('option', { value: k }, k || 'profile default')));
  const days = h('input', { id: 'gen-days', type: 'number', min: '1' });
  const pw = h('input', { id: 'gen-password', type: 'password', required: true, minlength: '8', autocomplete: 'new-password' });
  const err = errorSlot();
  err.id = 'gen-error';
  const out = h('div', { id: 'gen-result', 'aria-live': 'polite' });
  const form = h('form', { id: 'gen-form', 'aria-label': 'Generate key and certificate' },
    h('div', { class: 'row' }, field('Profile', profile), dl, field('Key type', keyType), field('Validity (days)', days)),
    h('div', { class: 'row' }, field('Common name', inputs.commonName), field('Organization', inputs.organization),
      field('Organizational unit', inputs.organizationalUnit), field('Locality', inputs.locality), field('State', inputs.state), field('Country', inputs.country)),
    field('Subject alternative names (comma separated: DNS:…, IP:…)', sans),
    field('PKCS#12 password (protects the download; never sent to the server)', pw),
    h('div', { class: 'row' }, h('button', { type: 'submit', id: 'gen-submit' }, 'Generate key and certificate')), err);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    showError(err, null);
    const subject = {};
    for (const [k, el] of Object.entries(inputs)) if (el.value.trim()) subject[k] = el.value.trim();
    const body = { profile: profile.value, subject, sans: sans.value.split(',').map((s) => s.trim()).filter(Boolean) };
    if (keyType.value) body.keyType = keyType.value;
    if (days.value) body.validityDays = Number(days.value);
    try {
      const r = await busy('Generating the key and certificate', () => json('POST', '/v1/keys:generate', body));
      const c = r.certificate;
      const certs = [c.certificate, ...(c.chain || [])].map(b64ToBytes);
      const p12 = await pkcs12(b64ToBytes(r.privateKey), certs, pw.value);
      pw.value = '';
      const base = (subject.commonName || c.serial).replace(/[^A-Za-z0-9._-]/g, '_');
      out.replaceChildren(h('p', { class: 'ok', id: 'gen-done' }, `Issued serial ${c.serial}. The private key is shown once: download it now.`),
        h('div', { class: 'row' },
          h('button', { type: 'button', id: 'gen-p12', onclick: () => download(`${base}.p12`, p12, 'application/x-pkcs12') }, 'Download PKCS#12'),
          h('button', { type: 'button', class: 'secondary', id: 'gen-pem', onclick: () => download(`${base}.pem`, chainPem(c), 'application/x-pem-file') }, 'Download certificate (PEM)')));
    } catch (ex) { showError(err, ex); }
  });
  box.append(h('h3', {}, 'Generate key and certificate on the server'), form, out);
}

export async function render(box) {
  box.append(h('h2', { id: 'issue-title' }, 'Issue'));
  batchSection(box);
  generateSection(box);
}
