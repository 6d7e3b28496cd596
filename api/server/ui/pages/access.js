// Access: API tokens (create, list, revoke) and the admin allowlist.
// These calls answer text tables, shown as they come.
import { text } from '../api.js';
import { h, field, showError, errorSlot } from '../util.js';

export async function render(box) {
  box.append(h('h2', { id: 'access-title' }, 'Access'));
  const tokens = h('pre', { id: 'tokens' });
  const terr = errorSlot();
  const loadTokens = async () => { try { tokens.textContent = await text('GET', '/v1/tokens'); } catch (e) { showError(terr, e); } };
  const role = h('select', { id: 'tok-role' }, ['issuer', 'revoker', 'admin'].map((r) => h('option', { value: r }, r)));
  const profiles = h('input', { type: 'text', id: 'tok-profiles', placeholder: 'tomcat,ipsec or all' });
  const name = h('input', { type: 'text', id: 'tok-name' });
  const made = h('p', { id: 'tok-made', 'aria-live': 'polite' });
  const create = h('form', { 'aria-label': 'Create a token' }, h('div', { class: 'row' }, field('Role', role), field('Profiles (issuers)', profiles),
    field('Name', name), h('button', { type: 'submit', id: 'tok-create' }, 'Create token')), terr, made);
  create.addEventListener('submit', async (e) => {
    e.preventDefault();
    const q = new URLSearchParams({ role: role.value, name: name.value });
    if (profiles.value) q.set('profiles', profiles.value);
    try {
      const t = await text('POST', `/v1/tokens?${q}`);
      showError(terr, null);
      made.replaceChildren('New token (shown once): ', h('code', { class: 'mono' }, t.trim()));
      loadTokens();
    } catch (ex) { showError(terr, ex); }
  });
  const revId = h('input', { type: 'text', id: 'tok-revoke-id' });
  const revoke = h('form', { 'aria-label': 'Revoke a token' }, h('div', { class: 'row' }, field('Token id', revId), h('button', { type: 'submit', class: 'danger' }, 'Revoke token')));
  revoke.addEventListener('submit', async (e) => {
    e.preventDefault();
    try { await text('DELETE', `/v1/tokens/${encodeURIComponent(revId.value.trim())}`); showError(terr, null); loadTokens(); } catch (ex) { showError(terr, ex); }
  });
  box.append(h('h3', {}, 'Tokens'), create, revoke, tokens);

  const allow = h('pre', { id: 'allowlist' });
  const aerr = errorSlot();
  const loadAllow = async () => { try { allow.textContent = (await text('GET', '/v1/allowlist')) || '(empty: every address may call admin routes)'; } catch (e) { showError(aerr, e); } };
  const net = h('input', { type: 'text', id: 'allow-net', placeholder: '10.1.0.0/16' });
  const force = h('input', { type: 'checkbox', id: 'allow-force' });
  const change = (method) => async () => {
    const q = new URLSearchParams({ network: net.value.trim() });
    if (force.checked) q.set('force', 'true');
    try { await text(method, `/v1/allowlist?${q}`); showError(aerr, null); loadAllow(); } catch (ex) { showError(aerr, ex); }
  };
  box.append(h('h3', {}, 'Admin allowlist'), h('div', { class: 'row' }, field('Network', net),
    h('label', { class: 'inline', for: 'allow-force' }, force, 'Even if it shuts me out'),
    h('button', { type: 'button', onclick: change('POST') }, 'Add'), h('button', { type: 'button', class: 'danger', onclick: change('DELETE') }, 'Remove')), aerr, allow);
  await Promise.all([loadTokens(), loadAllow()]);
}
