// Trust stores: a tab per store, its entries (read through find, which
// describes each entry in JSON), upload (PEM, DER, PKCS#7) and delete.
import { json, raw, may } from '../api.js';
import { h, field, table, date, showError, errorSlot, readFile, download } from '../util.js';

export const STORES = ['tomcat-trust', 'CallManager-trust', 'Phone-SAST-trust', 'CAPF-trust', 'ipsec-trust', 'TVS-trust'];

async function showStore(store, panel) {
  panel.replaceChildren(h('h3', {}, store));
  const err = errorSlot();
  const listBox = h('div');
  panel.append(listBox, err);
  const list = async () => {
    try {
      const r = await json('GET', `/v1/certificates?usage=trust&store=${encodeURIComponent(store)}&limit=1000`);
      const rows = r.certificates || [];
      listBox.replaceChildren(table(['Subject', 'Issuer', 'Key', 'CA', 'Not after', 'Fingerprint (SHA-256)', ''], rows.map((c) => [
        c.subject, c.issuer, `${c.keyType || ''} ${c.keyBits || ''}`, c.subject === c.issuer ? 'root' : 'CA', date(c.notAfter),
        h('td', { class: 'mono' }, c.fingerprint),
        h('td', {},
          h('button', { type: 'button', class: 'secondary', 'aria-label': `Download ${c.commonName || c.fingerprint}`, onclick: async () => {
            try { download(`${c.fingerprint.slice(0, 16)}.pem`, await (await raw('GET', `/v1/trust/${encodeURIComponent(store)}/${c.fingerprint}`)).text()); } catch (e) { showError(err, e); }
          } }, 'PEM'), ' ',
          may('admin') ? h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${c.commonName || c.fingerprint}`, onclick: async () => {
            if (!window.confirm(`Delete ${c.subject} from ${store}?`)) return;
            try { await raw('DELETE', `/v1/trust/${encodeURIComponent(store)}/${c.fingerprint}`); showError(err, null); list(); } catch (e) { showError(err, e); }
          } }, 'Delete') : '')]), `${rows.length} entr${rows.length === 1 ? 'y' : 'ies'}`));
    } catch (e) { showError(err, e); }
  };
  if (may('admin')) {
    const file = h('input', { type: 'file', id: 'trust-file', accept: '.pem,.crt,.cer,.der,.p7b,.p7c' });
    const force = h('input', { type: 'checkbox', id: 'trust-force' });
    const uerr = errorSlot();
    uerr.id = 'trust-error';
    const result = h('pre', { id: 'trust-result', hidden: true });
    const form = h('form', { 'aria-label': `Upload to ${store}` },
      h('div', { class: 'row' }, field('Certificate file (PEM, DER or PKCS#7)', file),
        h('label', { class: 'inline', for: 'trust-force' }, force, 'Accept expired CA certificates'),
        h('button', { type: 'submit', id: 'trust-upload' }, 'Upload')), uerr, result);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!file.files.length) { showError(uerr, new Error('choose a file')); return; }
      try {
        const body = await readFile(file.files[0]);
        const t = await (await raw('POST', `/v1/trust/${encodeURIComponent(store)}?format=text${force.checked ? '&force=true' : ''}`, body, 'application/octet-stream')).text();
        showError(uerr, null);
        result.textContent = t;
        result.hidden = false;
        list();
      } catch (ex) { showError(uerr, ex); }
    });
    panel.append(h('h4', {}, 'Upload'), form);
  }
  await list();
}

export async function render(box) {
  box.append(h('h2', { id: 'trust-title' }, 'Trust stores'));
  const tabs = h('div', { role: 'tablist', 'aria-label': 'Trust stores' });
  const panel = h('div', { role: 'tabpanel', id: 'trust-panel', tabindex: '0' });
  const buttons = STORES.map((s, i) => h('button', { type: 'button', role: 'tab', id: `tab-${s}`, 'aria-controls': 'trust-panel',
    'aria-selected': i === 0 ? 'true' : 'false', tabindex: i === 0 ? '0' : '-1', onclick: () => select(i) }, s));
  const select = (i) => {
    buttons.forEach((b, j) => { b.setAttribute('aria-selected', String(i === j)); b.tabIndex = i === j ? 0 : -1; });
    panel.setAttribute('aria-labelledby', buttons[i].id);
    return showStore(STORES[i], panel);
  };
  tabs.addEventListener('keydown', (e) => {
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    const n = e.key === 'ArrowRight' ? (i + 1) % buttons.length : e.key === 'ArrowLeft' ? (i + buttons.length - 1) % buttons.length : -1;
    if (n >= 0) { e.preventDefault(); buttons[n].focus(); select(n); }
  });
  tabs.append(...buttons);
  box.append(tabs, panel);
  await select(0);
}
