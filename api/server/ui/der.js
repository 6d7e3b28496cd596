// A strict-enough DER reader to show a certificate: names, validity, key
// and every extension, decoded when known and in hex otherwise. It only
// displays; the server is what checks certificates.

export function parse(bytes, pos = 0) {
  if (pos + 2 > bytes.length) throw new Error('DER: truncated');
  const tag = bytes[pos];
  let len = bytes[pos + 1];
  let hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('DER: bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + bytes[pos + 2 + i];
    hdr += n;
  }
  const start = pos + hdr;
  const end = start + len;
  if (end > bytes.length) throw new Error('DER: truncated');
  const node = { tag, start, end, hdrStart: pos, bytes, children: null };
  if (tag & 0x20) {
    node.children = [];
    let p = start;
    while (p < end) {
      const c = parse(bytes, p);
      node.children.push(c);
      p = c.end;
    }
  }
  return node;
}

const val = (n) => n.bytes.subarray(n.start, n.end);
export const hex = (b, sep = ':') => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(sep).toUpperCase();

export function oid(n) {
  const b = val(n);
  const out = [Math.floor(b[0] / 40), b[0] % 40];
  let v = 0;
  for (let i = 1; i < b.length; i++) {
    v = v * 128 + (b[i] & 0x7f);
    if (!(b[i] & 0x80)) { out.push(v); v = 0; }
  }
  return out.join('.');
}

const NAMES = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O',
  '2.5.4.11': 'OU', '2.5.4.5': 'serialNumber', '1.2.840.113549.1.9.1': 'emailAddress',
  '0.9.2342.19200300.100.1.25': 'DC', '2.5.4.46': 'dnQualifier',
  '2.5.29.19': 'Basic constraints', '2.5.29.15': 'Key usage', '2.5.29.37': 'Extended key usage',
  '2.5.29.17': 'Subject alternative name', '2.5.29.14': 'Subject key identifier',
  '2.5.29.35': 'Authority key identifier', '1.3.6.1.5.5.7.1.1': 'Authority information access',
  '2.5.29.31': 'CRL distribution points', '2.5.29.32': 'Certificate policies',
  '2.5.29.30': 'Name constraints', '1.3.6.1.5.5.7.1.24': 'TLS feature',
  '1.3.6.1.5.5.7.3.1': 'serverAuth', '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning', '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.5': 'ipsecEndSystem', '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning', '1.3.6.1.5.5.7.3.17': 'ipsecIKE',
  '1.3.6.1.5.5.7.48.1': 'OCSP', '1.3.6.1.5.5.7.48.2': 'CA issuers',
  '1.2.840.113549.1.1.1': 'RSA', '1.2.840.10045.2.1': 'EC', '1.3.101.112': 'Ed25519',
  '1.2.840.10045.3.1.7': 'P-256', '1.3.132.0.34': 'P-384', '1.3.132.0.35': 'P-521',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption', '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption', '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256', '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512', '2.5.29.32.0': 'anyPolicy',
};
export const oidName = (o) => NAMES[o] || o;

function str(n) {
  const b = val(n);
  if (n.tag === 0x1e) { // BMPString
    let s = '';
    for (let i = 0; i + 1 < b.length; i += 2) s += String.fromCharCode(b[i] * 256 + b[i + 1]);
    return s;
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(b);
}

export function name(n) {
  return n.children.map((rdn) => rdn.children.map((atv) =>
    `${oidName(oid(atv.children[0]))}=${str(atv.children[1])}`).join('+')).join(', ');
}

function time(n) {
  const s = str(n);
  const full = n.tag === 0x17 ? (Number(s.slice(0, 2)) >= 50 ? '19' : '20') + s : s;
  return `${full.slice(0, 4)}-${full.slice(4, 6)}-${full.slice(6, 8)} ${full.slice(8, 10)}:${full.slice(10, 12)}:${full.slice(12, 14)}Z`;
}

function generalName(g) {
  const t = g.tag & 0x1f;
  const b = val(g);
  if (t === 2) return `DNS:${str(g)}`;
  if (t === 1) return `email:${str(g)}`;
  if (t === 6) return `URI:${str(g)}`;
  if (t === 7) {
    if (b.length === 4) return `IP:${Array.from(b).join('.')}`;
    return `IP:${hex(b, '').match(/.{4}/g).join(':').toLowerCase()}`;
  }
  if (t === 4) return `DirName:${name(g.children[0])}`;
  if (t === 0) return `otherName:${oid(g.children[0])}`;
  return `[${t}]${hex(b)}`;
}

const KU = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment',
  'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'];

function bits(n) {
  const b = val(n);
  const out = [];
  for (let i = 0; i < (b.length - 1) * 8; i++) if (b[1 + (i >> 3)] & (0x80 >> (i & 7))) out.push(i);
  return out;
}

// extension decodes one extension's value into lines of text.
function extension(id, v) {
  const n = parse(v);
  switch (id) {
    case '2.5.29.19': {
      const c = n.children;
      const ca = c.length > 0 && c[0].tag === 0x01 && val(c[0])[0] !== 0;
      const pl = c.find((x) => x.tag === 0x02);
      return [`CA: ${ca}`].concat(pl ? [`path length: ${parseInt(hex(val(pl), ''), 16)}`] : []);
    }
    case '2.5.29.15': return [bits(n).map((i) => KU[i] || `bit${i}`).join(', ')];
    case '2.5.29.37': return [n.children.map((c) => oidName(oid(c))).join(', ')];
    case '2.5.29.17': return n.children.map(generalName);
    case '2.5.29.14': return [hex(val(n))];
    case '2.5.29.35': return n.children.map((c) => ((c.tag & 0x1f) === 0 ? `keyid: ${hex(val(c))}` : (c.tag & 0x1f) === 1 ? `issuer: ${c.children.map(generalName).join(', ')}` : `serial: ${hex(val(c))}`));
    case '1.3.6.1.5.5.7.1.1': return n.children.map((ad) => `${oidName(oid(ad.children[0]))}: ${generalName(ad.children[1])}`);
    case '2.5.29.31': return n.children.flatMap((dp) => dp.children.flatMap((f) => ((f.tag & 0x1f) === 0 && f.children[0] && (f.children[0].tag & 0x1f) === 0 ? f.children[0].children.map(generalName) : [`[${f.tag & 0x1f}] ${hex(val(f))}`])));
    case '2.5.29.32': return n.children.map((pi) => oidName(oid(pi.children[0])));
    default: return [hex(v)];
  }
}

// certificate returns what a certificate (DER) says, for display.
export function certificate(der) {
  const cert = parse(der);
  const tbs = cert.children[0];
  let i = 0;
  let version = 1;
  if (tbs.children[0].tag === 0xa0) { version = val(tbs.children[0].children[0])[0] + 1; i = 1; }
  const serial = hex(val(tbs.children[i]), '');
  const sigAlg = oidName(oid(tbs.children[i + 1].children[0]));
  const issuer = name(tbs.children[i + 2]);
  const validity = tbs.children[i + 3].children.map(time);
  const subject = name(tbs.children[i + 4]);
  const spki = tbs.children[i + 5];
  const keyAlg = oidName(oid(spki.children[0].children[0]));
  let key = keyAlg;
  const param = spki.children[0].children[1];
  if (param && param.tag === 0x06) key += ` ${oidName(oid(param))}`;
  if (keyAlg === 'RSA') {
    const bitstr = val(spki.children[1]).subarray(1);
    const rsa = parse(bitstr);
    let m = val(rsa.children[0]);
    while (m.length && m[0] === 0) m = m.subarray(1);
    key += ` ${m.length * 8} bits`;
  }
  const extensions = [];
  for (const c of tbs.children.slice(i + 6)) {
    if (c.tag !== 0xa3) continue;
    for (const e of c.children[0].children) {
      const id = oid(e.children[0]);
      const critical = e.children[1].tag === 0x01 && val(e.children[1])[0] !== 0;
      const value = val(e.children[e.children.length - 1]);
      let lines;
      try { lines = extension(id, value); } catch (_) { lines = [hex(value)]; }
      extensions.push({ oid: id, name: oidName(id), critical, lines });
    }
  }
  return { version, serial, sigAlg, issuer, notBefore: validity[0], notAfter: validity[1], subject, key, extensions };
}

// crl returns what a CRL (DER) says for display: this and next update,
// the number of entries, the CRL number when present.
export function crl(der) {
  const tbs = parse(der).children[0];
  let i = tbs.children[0].tag === 0x02 ? 1 : 0;
  i += 2; // signature algorithm, issuer
  const thisUpdate = time(tbs.children[i]);
  let next = '';
  let k = i + 1;
  if (tbs.children[k] && (tbs.children[k].tag === 0x17 || tbs.children[k].tag === 0x18)) { next = time(tbs.children[k]); k++; }
  let entries = 0;
  if (tbs.children[k] && tbs.children[k].tag === 0x30) { entries = tbs.children[k].children.length; k++; }
  let number = '';
  const ext = tbs.children[k];
  if (ext && ext.tag === 0xa0) {
    for (const e of ext.children[0].children) {
      if (oid(e.children[0]) === '2.5.29.20') number = BigInt(`0x${hex(val(parse(val(e.children[e.children.length - 1]))), '') || '0'}`).toString();
    }
  }
  return { thisUpdate, nextUpdate: next, entries, number };
}
