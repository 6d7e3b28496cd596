// Small helpers: building elements without innerHTML (no inline anything
// for the CSP, no markup injection from certificate fields), base64, PEM,
// downloads, dates, and showing an API error beside what caused it.
import { ApiError } from './api.js';

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

let ids = 0;
export function uid(p) { ids += 1; return `${p || 'f'}-${ids}`; }

// field makes a labelled control: the label names it for screen readers.
export function field(labelText, control, hint) {
  if (!control.id) control.id = uid('c');
  const parts = [h('label', { for: control.id }, labelText), control];
  if (hint) {
    const hid = uid('hint');
    control.setAttribute('aria-describedby', hid);
    parts.push(h('small', { id: hid, class: 'muted' }, hint));
  }
  return h('div', {}, parts);
}

export function b64ToBytes(b64) {
  const s = atob(b64.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function bytesToB64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

export function pem(label, bytes) {
  const b = bytesToB64(bytes).replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b}\n-----END ${label}-----\n`;
}

// pemBlocks returns the DER of each PEM block of |label| in |text|.
export function pemBlocks(text, label) {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  const out = [];
  for (const m of text.matchAll(re)) out.push(b64ToBytes(m[1].replace(/\s+/g, '')));
  return out;
}

export function download(name, data, type) {
  const blob = data instanceof Blob ? data : new Blob([data], { type: type || 'application/octet-stream' });
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function date(secs) {
  const n = Number(secs || 0);
  if (!n) return '';
  return new Date(n * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function daysLeft(secs) {
  return Math.floor((Number(secs) * 1000 - Date.now()) / 86400000);
}

// errorBox shows an API error (code and message) in |box|, the element
// next to the control that caused it; clears it when |err| is null.
export function showError(box, err) {
  box.replaceChildren();
  if (!err) return;
  box.setAttribute('role', 'alert');
  box.classList.add('error');
  if (err instanceof ApiError) box.append(h('code', {}, err.code), ' ', err.detail, ` (HTTP ${err.status})`);
  else box.append(String(err.message || err));
}

export function errorSlot() { return h('p', { class: 'error', 'aria-live': 'assertive' }); }

// busy runs |work| with the progress bar shown; |work| gets a function
// to report (done, total, text).
export async function busy(label, work) {
  const box = document.getElementById('progress');
  const bar = document.getElementById('progress-bar');
  const txt = document.getElementById('progress-text');
  box.hidden = false;
  bar.removeAttribute('value');
  txt.textContent = label;
  const report = (done, total, t) => {
    if (total) { bar.max = total; bar.value = done; }
    txt.textContent = t || `${label}: ${done} of ${total}`;
  };
  try { return await work(report); } finally { box.hidden = true; }
}

export function table(columns, rows, caption) {
  return h('table', {},
    caption ? h('caption', { class: 'muted' }, caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => (c instanceof Node && c.tagName === 'TD' ? c : h('td', {}, c)))))));
}

export function readFile(file) {
  return file.arrayBuffer().then((b) => new Uint8Array(b));
}

// csrDer takes a CSR file or pasted text (PEM or DER) to DER bytes.
export function csrDer(bytes) {
  const t = new TextDecoder().decode(bytes);
  if (t.includes('-----BEGIN')) {
    const blocks = pemBlocks(t, '(?:NEW )?CERTIFICATE REQUEST');
    return blocks;
  }
  return [bytes];
}
