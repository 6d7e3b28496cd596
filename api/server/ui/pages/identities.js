// Self-signed identities: generate (profile, subject, key type, validity
// in years) and regenerate an existing one (same key kind and names).
import { json } from '../api.js';
import { h, field, table, date, showError, errorSlot, b64ToBytes, pem, download } from '../util.js';
import { PROFILES } from './issue.js';

function saveResult(out, r, label) {
  const cert = pem('CERTIFICATE', b64ToBytes(r.certificate?.certificate || ''));
  const key = pem('PRIVATE KEY', b64ToBytes(r.privateKey));
  const serial = r.certificate?.serial || '';
  out.replaceChildren(h('p', { class: 'ok', id: 'ss-done' }, `${label}: serial ${serial}${r.replaces ? ` (replaces ${r.replaces})` : ''}. The key is shown once.`),
    h('div', { class: 'row' },
      h('button', { type: 'button', onclick: () => download(`${serial}.pem`, cert, 'application/x-pem-file') }, 'Download certificate'),
      h('button', { type: 'button', class: 'secondary', onclick: () => download(`${serial}.key`, key, 'application/x-pem-file') }, 'Download private key')));
}

export async function render(box) {
  box.append(h('h2', { id: 'identities-title' }, 'Self-signed identities'));
  const profile = h('select', { id: 'ss-profile' }, PROFILES.map((p) => h('option', { value: p }, p)));
  const cn = h('input', { id: 'ss-cn', type: 'text', required: true });
  const o = h('input', { id: 'ss-o', type: 'text' });
  const sans = h('input', { id: 'ss-sans', type: 'text', size: '40' });
  const keyType = h('select', { id: 'ss-key' }, ['', 'RSA-1024', 'RSA-2048', 'RSA-3072', 'RSA-4096', 'EC-P256', 'EC-P384'].map((k) => h('option', { value: k }, k || 'profile default')));
  const years = h('select', { id: 'ss-years' }, ['5', '10', '20'].map((y) => h('option', { value: y }, `${y} years`)));
  const err = errorSlot();
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { id: 'ss-form', 'aria-label': 'Generate a self-signed identity' },
    h('div', { class: 'row' }, field('Profile', profile), field('Common name', cn), field('Organization', o),
      field('Key type', keyType), field('Validity', years)),
    field('Subject alternative names (comma separated)', sans),
    h('div', { class: 'row' }, h('button', { type: 'submit', id: 'ss-submit' }, 'Generate')), err);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { profile: profile.value, subject: { commonName: cn.value.trim(), ...(o.value ? { organization: o.value } : {}) },
      sans: sans.value.split(',').map((s) => s.trim()).filter(Boolean), validityYears: Number(years.value) };
    if (keyType.value) body.keyType = keyType.value;
    try { showError(err, null); saveResult(out, await json('POST', '/v1/self-signed', body), 'Generated'); list(); } catch (ex) { showError(err, ex); }
  });
  box.append(form, out, h('h3', {}, 'Current self-signed identities'));
  const listBox = h('div', { id: 'ss-list' });
  const lerr = errorSlot();
  box.append(listBox, lerr);
  const list = async () => {
    try {
      // Self-signed identities are identity certificates with no issuing CA.
      const r = await json('GET', '/v1/certificates?usage=identity&limit=1000');
      const mine = (r.certificates || []).filter((c) => c.selfSigned);
      listBox.replaceChildren(table(['Serial', 'Common name', 'Profile', 'Key', 'Not after', 'Status', ''], mine.map((c) => {
        const yrs = h('select', { 'aria-label': `Validity of the successor of ${c.serial}` }, [['0', 'same as now'], ['5', '5 years'], ['10', '10 years'], ['20', '20 years']].map(([v, t]) => h('option', { value: v }, t)));
        return [h('td', { class: 'mono' }, c.serial), c.commonName, c.profile, `${c.keyType} ${c.keyBits}`, date(c.notAfter), c.status || 'good',
          h('td', {}, yrs, ' ', h('button', { type: 'button', class: 'secondary', 'aria-label': `Regenerate ${c.serial}`, onclick: async () => {
            try { showError(lerr, null); saveResult(out, await json('POST', `/v1/certificates/${c.serial}:regenerate`, { validityYears: Number(yrs.value) }), 'Regenerated'); list(); } catch (ex) { showError(lerr, ex); }
          } }, 'Regenerate'))];
      })));
    } catch (ex) { showError(lerr, ex); }
  };
  await list();
}
