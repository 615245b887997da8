// The web app of mfmc: a hash router over the pages, the navigation with the count of pending requests
// (polled, so it updates without a reload), and the session (GET /api/me; 401 = logged out).
import { api, setCsrf, ApiError } from './api.mjs';
import { h, say } from './ui.mjs';
import * as auth from './pages/auth.mjs';
import * as feed from './pages/feed.mjs';
import * as post from './pages/post.mjs';
import * as photo from './pages/photo.mjs';
import * as mine from './pages/mine.mjs';
import * as enrol from './pages/enrol.mjs';
import * as rules from './pages/rules.mjs';
import * as friends from './pages/friends.mjs';
import * as data from './pages/data.mjs';
import * as settings from './pages/settings.mjs';

const POLL_MS = 5000;
export const ctx = { me: null, config: null, pending: 0, friendAsks: 0 };

// Routes: hash path -> [module, needs a session]. '#/photo/12' passes '12' to the page.
const routes = {
  login: [auth, false, 'login'], signup: [auth, false, 'signup'], feed: [feed, true], post: [post, true],
  photo: [photo, true], mine: [mine, true], enrol: [enrol, true], rules: [rules, true], friends: [friends, true],
  data: [data, true], settings: [settings, false],
};

const NAV = [
  ['feed', 'Feed'], ['post', 'Post a photo'], ['mine', 'Photos of me'], ['friends', 'Friends'], ['enrol', 'My face'],
  ['rules', 'My rules'], ['data', 'My data'], ['settings', 'Settings'],
];

export function go(path) {
  if (location.hash === `#/${path}`) route();
  else location.hash = `#/${path}`;
}

function current() {
  const [name, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  return { name: name || (ctx.me ? 'feed' : 'login'), arg: rest.join('/') };
}

function renderNav() {
  const nav = document.getElementById('nav');
  const { name } = current();
  if (!ctx.me) {
    nav.replaceChildren(h('ul', {},
      h('li', {}, h('a', { href: '#/login', 'aria-current': name === 'login' ? 'page' : null }, 'Log in')),
      h('li', {}, h('a', { href: '#/signup', 'aria-current': name === 'signup' ? 'page' : null }, 'Sign up')),
      h('li', {}, h('a', { href: '#/settings', 'aria-current': name === 'settings' ? 'page' : null }, 'About'))));
    return;
  }
  const items = NAV.map(([path, label]) => {
    const badge = path === 'mine' ? ctx.pending : path === 'friends' ? ctx.friendAsks : 0;
    const a = h('a', { href: `#/${path}`, 'aria-current': name === path ? 'page' : null }, label);
    if (badge) {
      a.append(' ', h('span', { class: 'badge', id: path === 'mine' ? 'pending-count' : 'friend-count' }, String(badge)));
      a.append(h('span', { class: 'sr' }, path === 'mine' ? ' waiting for your decision' : ' asking to be friends'));
    }
    return h('li', {}, a);
  });
  const out = h('button', { type: 'button', class: 'link', id: 'logout' }, `Log out ${ctx.me.name}`);
  out.addEventListener('click', logout);
  items.push(h('li', {}, out));
  // on a phone the links fold behind a menu button (which carries the pending count too)
  const list = h('ul', { id: 'nav-list' }, items);
  const waiting = ctx.pending + ctx.friendAsks;
  const menu = h('button', { type: 'button', class: 'menu', 'aria-expanded': 'false', 'aria-controls': 'nav-list' }, 'Menu',
    waiting > 0 ? [' ', h('span', { class: 'badge' }, String(waiting)), h('span', { class: 'sr' }, ' waiting for you')] : null);
  menu.addEventListener('click', () => {
    const open = list.classList.toggle('open');
    menu.setAttribute('aria-expanded', String(open));
  });
  nav.replaceChildren(menu, list);
}

async function logout() {
  try { await api('POST', '/api/logout'); } catch (e) { if (!(e instanceof ApiError && e.status === 401)) { say(e.message, 'error'); return; } }
  ctx.me = null;
  setCsrf('');
  say('You are logged out.');
  go('login');
}

export async function refreshMe() {
  try {
    ctx.me = await api('GET', '/api/me');
    setCsrf(ctx.me.csrf);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) ctx.me = null;
    else throw e;
  }
  return ctx.me;
}

// Pending requests and friend requests, polled: the badges change without a reload.
export async function refreshCounts() {
  if (!ctx.me) return;
  try {
    const [req, fr] = await Promise.all([api('GET', '/api/requests'), api('GET', '/api/friends')]);
    const p = req.length, f = fr.filter((x) => x.state === 'asks_you').length;
    if (p !== ctx.pending || f !== ctx.friendAsks) {
      ctx.pending = p;
      ctx.friendAsks = f;
      renderNav();
    }
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) { ctx.me = null; renderNav(); }
  }
}

let routing = 0;
export async function route() {
  const my = ++routing;
  delete document.body.dataset.ready; // set again when the page is rendered (tests wait for it)
  const { name, arg } = current();
  const r = routes[name];
  if (!r) { location.hash = '#/feed'; return; }
  const [mod, needsSession, mode] = r;
  if (needsSession && !ctx.me) { location.hash = '#/login'; return; }
  if (!needsSession && ctx.me && (name === 'login' || name === 'signup')) { location.hash = '#/feed'; return; }
  renderNav();
  try {
    await mod.render(arg || mode, ctx);
  } catch (e) {
    if (my !== routing) return;
    if (e instanceof ApiError && e.status === 401) { ctx.me = null; location.hash = '#/login'; say(e.message, 'error'); return; }
    say(e.message || String(e), 'error');
  }
  if (my === routing) {
    document.body.dataset.ready = location.hash || '#';
    const h1 = document.querySelector('#main h1');
    if (h1 && document.activeElement === document.body) h1.focus({ preventScroll: true });
  }
}

async function start() {
  try { ctx.config = await api('GET', '/api/config'); } catch { ctx.config = null; }
  try { await refreshMe(); } catch (e) { say(e.message, 'error'); }
  window.addEventListener('hashchange', () => { window.scrollTo(0, 0); document.activeElement?.blur?.(); route(); });
  await route();
  refreshCounts();
  setInterval(refreshCounts, POLL_MS);
}

start();
