// The console's only way to the server: the JSON API (README, "JSON"),
// same origin, with the signed-in credential. The token lives in this
// tab's sessionStorage, never in a cookie; with a client certificate the
// browser's TLS session carries the identity and no header is sent.

const TOKEN_KEY = 'pki.token';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(`${code}: ${message}`);
    this.status = status;
    this.code = code;
    this.detail = message;
  }
}

export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY) || ''; },
  set token(t) {
    if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY);
  },
  role: '',
  signedIn: false,
};

function headers(extra) {
  const h = new Headers(extra || {});
  if (session.token) h.set('Authorization', `Bearer ${session.token}`);
  return h;
}

// errorOf turns a refused answer into an ApiError: JSON {code, message} on
// protobuf calls, "CODE: message" text on the others.
async function errorOf(resp) {
  const text = await resp.text();
  try {
    const j = JSON.parse(text);
    if (j && j.code) return new ApiError(resp.status, j.code, j.message || '');
  } catch (_) { /* text answer */ }
  const m = /^([A-Z_]+): ?([\s\S]*)$/.exec(text.trim());
  if (m) return new ApiError(resp.status, m[1], m[2]);
  return new ApiError(resp.status, `HTTP_${resp.status}`, text.trim() || resp.statusText);
}

// json calls a protobuf route in JSON and returns the parsed answer.
export async function json(method, path, body) {
  const h = headers({ Accept: 'application/json' });
  const init = { method, headers: h, cache: 'no-store' };
  if (body !== undefined) {
    h.set('Content-Type', 'application/json');
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path, init);
  if (!resp.ok) throw await errorOf(resp);
  const text = await resp.text();
  return text ? JSON.parse(text) : {};
}

// raw calls a route that answers text or files; returns the Response.
export async function raw(method, path, body, contentType) {
  const h = headers({ Accept: '*/*' });
  const init = { method, headers: h, cache: 'no-store' };
  if (body !== undefined) {
    if (contentType) h.set('Content-Type', contentType);
    init.body = body;
  }
  const resp = await fetch(path, init);
  if (!resp.ok) throw await errorOf(resp);
  return resp;
}

export async function text(method, path, body, contentType) {
  return (await raw(method, path, body, contentType)).text();
}

// probe returns the error code a call is refused with, or '' if allowed.
async function probe(method, path, body) {
  try {
    await json(method, path, body);
    return '';
  } catch (e) {
    return e instanceof ApiError ? e.code : 'NETWORK';
  }
}

// detectRole finds what the credential may do, since no call names the
// role: reading must work; an admin may list tokens; an empty batch is
// refused by role (FORBIDDEN) before its content is looked at, and an
// allowed one fails on its content without doing anything.
export async function detectRole() {
  await json('GET', '/v1/ca');
  try {
    await text('GET', '/v1/tokens');
    return 'admin';
  } catch (e) {
    if (e.code === 'ADDRESS_NOT_ALLOWED') return 'admin';
  }
  const rev = await probe('POST', '/v1/certificates:batchRevoke', { items: [] });
  if (rev !== 'FORBIDDEN' && rev !== 'UNAUTHENTICATED') return 'revoker';
  const iss = await probe('POST', '/v1/certificates:batchIssue', { items: [] });
  if (iss !== 'FORBIDDEN' && iss !== 'UNAUTHENTICATED') return 'issuer';
  return 'reader';
}

// may reports whether the signed-in role shows the controls of |need|
// ('reader', 'issuer', 'revoker', 'admin'). The server still decides; this
// only hides what would be refused.
export function may(need) {
  if (!need || need === 'reader') return true;
  return session.role === 'admin' || session.role === need;
}
