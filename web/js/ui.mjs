// Small DOM helpers: elements built with textContent only (no HTML from data), the status line that announces
// every action's outcome, and the image markup shared by pages.
import { imageUrl } from './api.mjs';

export function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else if (k === 'style' && typeof v === 'object') Object.assign(e.style, v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false) e.append(k instanceof Node ? k : String(k));
  return e;
}

let statusTimer = 0;
// Visible and announced feedback: kind is 'ok', 'error' or 'busy'.
export function say(text, kind = 'ok') {
  const s = document.getElementById('status');
  s.className = `status ${kind}`;
  s.textContent = text;
  clearTimeout(statusTimer);
  if (kind !== 'busy') statusTimer = setTimeout(() => { s.className = 'status'; s.textContent = ''; }, 8000);
}

// A page: title, heading (focused after navigation so keyboard and screen reader users land on it), content.
export function page(title, ...content) {
  document.title = `${title} — mfmc`;
  const main = document.getElementById('main');
  const h1 = h('h1', { tabindex: '-1' }, title);
  main.replaceChildren(h1, ...content.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return h1;
}

// A button that shows it is working and re-enables itself; errors go to the status line.
export function action(label, fn, attrs = {}) {
  const b = h('button', { type: 'button', ...attrs }, label);
  b.addEventListener('click', async () => {
    b.disabled = true;
    b.setAttribute('aria-busy', 'true');
    try { await fn(b); } catch (e) { say(e.message || String(e), 'error'); } finally {
      b.disabled = false;
      b.removeAttribute('aria-busy');
    }
  });
  return b;
}

export function when(t) {
  return new Date(t * 1000).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

// A photo image loaded lazily at the size the layout needs: the server renders 256 px, 1024 px and full size.
export function photoImg(p, alt, sizes, others) {
  const w = p.width || 1024, hgt = p.height || 768;
  const set = [`${imageUrl(p.id, 'thumb', others)} 256w`, `${imageUrl(p.id, 'medium', others)} 1024w`];
  if (w > 1024) set.push(`${imageUrl(p.id, 'full', others)} ${w}w`);
  return h('img', {
    src: imageUrl(p.id, 'medium', others), srcset: set.join(', '), sizes, alt, loading: 'lazy', decoding: 'async',
    width: w, height: hgt,
  });
}

// Words for a face as one viewer gets it; never describes the face itself.
export function faceLabel(f) {
  const n = f.idx + 1;
  if (f.yours) return `face ${n}, you (${decisionWords(f)})`;
  if (f.shown === 'real') return `face ${n}, ${f.person ? f.person.name : 'approved'}`;
  return `face ${n}, not approved`;
}

export function decisionWords(f) {
  if (f.discarded) return 'replaced for good at upload';
  if (f.decision === 'approved') return f.audience === 'friends' ? 'approved for your friends' : 'approved for everyone';
  if (f.decision === 'declined') return 'declined';
  return 'waiting for your decision';
}

export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }
