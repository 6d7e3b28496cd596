// A PKCS#12 (RFC 7292) writer for one key and its certificates, made in
// the browser from what keys:generate returned, so that the password the
// user types never leaves the page. Modern algorithms, as OpenSSL 3 writes
// by default: the key in PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), the
// integrity MAC HMAC-SHA256 with the PKCS#12 key derivation.

const ITER = 2048;

function len(n) {
  if (n < 0x80) return [n];
  const b = [];
  while (n > 0) { b.unshift(n & 0xff); n >>= 8; }
  return [0x80 | b.length, ...b];
}
function tlv(tag, ...parts) {
  const body = concat(parts.map((p) => (p instanceof Uint8Array ? p : new Uint8Array(p))));
  return concat([new Uint8Array([tag, ...len(body.length)]), body]);
}
function concat(arrs) {
  const out = new Uint8Array(arrs.reduce((s, a) => s + a.length, 0));
  let o = 0;
  for (const a of arrs) { out.set(a, o); o += a.length; }
  return out;
}
const seq = (...p) => tlv(0x30, ...p);
const octets = (b) => tlv(0x04, b);
const ctx0 = (...p) => tlv(0xa0, ...p);
const NULL = new Uint8Array([0x05, 0x00]);
function int(n) {
  const b = [];
  do { b.unshift(n & 0xff); n = Math.floor(n / 256); } while (n > 0);
  if (b[0] & 0x80) b.unshift(0);
  return tlv(0x02, b);
}
function oid(s) {
  const p = s.split('.').map(Number);
  const out = [40 * p[0] + p[1]];
  for (const v of p.slice(2)) {
    const b = [v & 0x7f];
    let x = Math.floor(v / 128);
    while (x > 0) { b.unshift(0x80 | (x & 0x7f)); x = Math.floor(x / 128); }
    out.push(...b);
  }
  return tlv(0x06, out);
}
const DATA = '1.2.840.113549.1.7.1';
const dataInfo = (content) => seq(oid(DATA), ctx0(octets(content)));

// kdfMacKey is RFC 7292 B.2 with SHA-256 (u = 32, v = 64), ID 3, for a key
// of 32 bytes: one block.
async function kdfMacKey(password, salt, iter) {
  const pw = new Uint8Array((password.length + 1) * 2);
  for (let i = 0; i < password.length; i++) { pw[2 * i] = password.charCodeAt(i) >> 8; pw[2 * i + 1] = password.charCodeAt(i) & 0xff; }
  const v = 64;
  const fill = (src) => {
    if (!src.length) return new Uint8Array(0);
    const out = new Uint8Array(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length];
    return out;
  };
  let a = concat([new Uint8Array(v).fill(3), fill(salt), fill(pw)]);
  for (let i = 0; i < iter; i++) a = new Uint8Array(await crypto.subtle.digest('SHA-256', a));
  return a;
}

// pkcs12 returns the DER of a PFX holding |keyDer| (PKCS#8) and |certs|
// (DER, the leaf first), protected by |password|.
export async function pkcs12(keyDer, certs, password) {
  const enc = new TextEncoder();
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(16));
  const base = await crypto.subtle.importKey('raw', enc.encode(password), 'PBKDF2', false, ['deriveKey']);
  const aes = await crypto.subtle.deriveKey({ name: 'PBKDF2', salt, iterations: ITER, hash: 'SHA-256' }, base,
    { name: 'AES-CBC', length: 256 }, false, ['encrypt']);
  const encrypted = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-CBC', iv }, aes, keyDer));
  const pbes2 = seq(oid('1.2.840.113549.1.5.13'), seq(
    seq(oid('1.2.840.113549.1.5.12'), seq(octets(salt), int(ITER), seq(oid('1.2.840.113549.2.9'), NULL))),
    seq(oid('2.16.840.1.101.3.4.1.42'), octets(iv))));
  const keyBag = seq(oid('1.2.840.113549.1.12.10.1.2'), ctx0(seq(pbes2, octets(encrypted))));
  const certBags = certs.map((c) => seq(oid('1.2.840.113549.1.12.10.1.3'),
    ctx0(seq(oid('1.2.840.113549.1.9.22.1'), ctx0(octets(c))))));
  const authSafe = seq(dataInfo(seq(...certBags)), dataInfo(seq(keyBag)));
  const macSalt = crypto.getRandomValues(new Uint8Array(16));
  const macKey = await crypto.subtle.importKey('raw', await kdfMacKey(password, macSalt, ITER),
    { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', macKey, authSafe));
  const macData = seq(seq(seq(oid('2.16.840.1.101.3.4.2.1'), NULL), octets(mac)), octets(macSalt), int(ITER));
  return seq(int(3), dataInfo(authSafe), macData);
}
