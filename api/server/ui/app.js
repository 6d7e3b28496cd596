// The console's entry: sign-in, the role, and a router over location.hash
// (#/certificates...) that loads one page module at a time. A page is a
// module in pages/ exporting render(container, params); adding a page is a
// file and a line in PAGES and in index.html's nav.
import { session, detectRole, may, ApiError } from './api.js';
import { h, showError } from './util.js';

// Every CSP violation is recorded where a test (or a person) can read it.
document.addEventListener('securitypolicyviolation', (e) => {
  const list = document.getElementById('csp-violations');
  list.append(h('li', {}, `${e.violatedDirective} ${e.blockedURI}`));
  list.hidden = false;
});

const PAGES = {
  overview: { load: () => import('./pages/overview.js'), role: 'reader' },
  certificates: { load: () => import('./pages/certificates.js'), role: 'reader' },
  issue: { load: () => import('./pages/issue.js'), role: 'issuer' },
  identities: { load: () => import('./pages/identities.js'), role: 'issuer' },
  trust: { load: () => import('./pages/trust.js'), role: 'reader' },
  monitor: { load: () => import('./pages/monitor.js'), role: 'reader' },
  bulk: { load: () => import('./pages/bulk.js'), role: 'admin' },
  access: { load: () => import('./pages/access.js'), role: 'admin' },
  audit: { load: () => import('./pages/audit.js'), role: 'admin' },
};

function showNav() {
  const nav = document.getElementById('nav');
  nav.hidden = !session.signedIn;
  for (const a of nav.querySelectorAll('a')) {
    a.parentElement.hidden = !may(a.dataset.role || 'reader');
  }
  const who = document.getElementById('who');
  who.replaceChildren();
  if (session.signedIn) {
    who.append(h('span', { id: 'role' }, `Signed in as ${session.role}`,
      session.token ? ' (token)' : ' (client certificate)'),
    h('button', { type: 'button', class: 'secondary', id: 'signout', onclick: signOut }, 'Sign out'));
  }
}

function signOut() {
  session.token = '';
  session.role = '';
  session.signedIn = false;
  location.hash = '';
  render();
}

async function signIn(token) {
  const box = document.getElementById('signin-error');
  session.token = token;
  try {
    session.role = await detectRole();
    session.signedIn = true;
    showError(box, null);
    if (!location.hash || location.hash === '#') location.hash = '#/overview';
    else render();
  } catch (e) {
    session.token = '';
    showError(box, e instanceof ApiError ? e : new Error(`cannot reach pkid: ${e.message}`));
  }
}

let current = 0;

async function render() {
  showNav();
  const signin = document.getElementById('signin');
  const page = document.getElementById('page');
  if (!session.signedIn) {
    signin.hidden = false;
    page.hidden = true;
    return;
  }
  signin.hidden = true;
  page.hidden = false;
  const [, nameRaw, rest] = /^#\/([a-z]*)\/?(.*)$/.exec(location.hash) || [];
  const name = PAGES[nameRaw] ? nameRaw : 'overview';
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const mine = ++current;
  const spec = PAGES[name];
  page.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  if (!may(spec.role)) {
    page.replaceChildren(h('p', { class: 'error' }, `This page needs the ${spec.role} role.`));
    page.dataset.ready = name;
    return;
  }
  try {
    const mod = await spec.load();
    if (mine !== current) return;
    const box = h('section', { 'aria-labelledby': `${name}-title`, id: `page-${name}` });
    page.replaceChildren(box);
    await mod.render(box, decodeURIComponent(rest || ''));
    if (mine === current) {
      page.dataset.ready = name;
      // For bench/console_paint: when the page's data was on screen.
      performance.mark(`pki-ready-${name}`);
      // A new page: keyboard and screen-reader users start at its top.
      if (!box.contains(document.activeElement)) document.getElementById('main').focus({ preventScroll: true });
    }
  } catch (e) {
    const err = h('p');
    showError(err, e);
    page.append(err);
    page.dataset.ready = name;
  }
}

function start() {
  document.getElementById('signin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const t = document.getElementById('token').value.trim();
    document.getElementById('token').value = '';
    signIn(t);
  });
  document.getElementById('signin-cert').addEventListener('click', () => signIn(''));
  window.addEventListener('hashchange', () => { delete document.getElementById('page').dataset.ready; render(); });
  if (session.token) {
    // Back in a tab that signed in: no flash of the sign-in form while the
    // role is worked out.
    document.getElementById('signin').hidden = true;
    const page = document.getElementById('page');
    page.hidden = false;
    page.replaceChildren(h('p', { class: 'muted' }, 'Signing in…'));
    signIn(session.token);
  } else {
    render();
  }
}

start();
