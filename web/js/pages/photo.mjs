// The photo page: the photo as this viewer receives it, its faces as numbered boxes with who they are where
// the viewer sees them real, and the viewer's own decision on their face.
import { api, imageUrl } from '../api.mjs';
import { h, page, photoImg, faceLabel, decisionWords, when, sleep } from '../ui.mjs';

// The photo with its face boxes drawn over it (positions in % of the stored size, so any rendered size fits).
export function figure(p, faces, sizes = '(max-width: 960px) 100vw, 960px') {
  const alt = `Photo ${p.id} posted by ${p.owner.name || 'someone'}, ${faces.length} face${faces.length === 1 ? '' : 's'}: ` +
    faces.map(faceLabel).join('; ');
  const boxes = faces.map((f) => h('div', {
    class: `box ${f.yours ? 'yours' : f.shown}`, 'aria-hidden': 'true',
    style: { left: `${(100 * f.box.x) / p.width}%`, top: `${(100 * f.box.y) / p.height}%`,
      width: `${(100 * f.box.w) / p.width}%`, height: `${(100 * f.box.h) / p.height}%` },
  }, h('span', {}, String(f.idx + 1))));
  return h('figure', { class: 'photo' },
    h('div', { class: 'frame' }, photoImg(p, alt, sizes), ...boxes),
    h('figcaption', {}, h('ol', { class: 'faces' }, faces.map((f) =>
      h('li', { class: f.yours ? 'yours' : f.shown, value: String(f.idx + 1) }, faceLabel(f).replace(/^face \d+, /, ''))))));
}

export async function waitReady(id, onTick) {
  for (;;) {
    const p = await api('GET', `/api/photos/${id}`);
    if (p.state !== 'pending') return p;
    if (onTick) onTick();
    await sleep(1500);
  }
}

export async function render(arg) {
  const id = Number.parseInt(arg, 10);
  const body = h('div', { id: 'photo-body' }, h('p', {}, 'Loading…'));
  page(`Photo ${id}`, body);
  let p = await api('GET', `/api/photos/${id}`);
  if (p.state === 'pending') {
    body.replaceChildren(h('p', { class: 'busy' }, 'Finding and recognising the faces in this photo… this page updates by itself.'));
    p = await waitReady(id);
  }
  if (p.state === 'failed') {
    body.replaceChildren(h('p', { class: 'error' }, 'This photo could not be analysed (damaged file or too many faces). Post another one.'));
    return;
  }
  const faces = await api('GET', `/api/photos/${id}/faces`);
  const mine = faces.filter((f) => f.yours);
  body.replaceChildren(...[
    h('p', { class: 'meta' }, `Posted by ${p.owner.name || 'someone'} · `,
      h('time', { datetime: new Date(p.created * 1000).toISOString() }, when(p.created)), ` · ${faces.length} face${faces.length === 1 ? '' : 's'}`),
    figure(p, faces),
    mine.length ? h('section', { class: 'card' }, h('h2', {}, 'Your face in this photo'),
      mine.map((f) => h('p', {}, `Face ${f.idx + 1}: ${decisionWords(f)}. `,
        h('a', { href: `#/mine` }, f.decision === 'pending' ? 'Decide on "Photos of me"' : 'Change on "Photos of me"')))) : null,
    h('p', { class: 'help' }, 'Faces you see as "not approved" are synthetic faces of nobody: their people have not ' +
      'approved this photo for you, or nobody enrolled matches them.'),
    h('p', {}, h('a', { class: 'button', href: `${imageUrl(id, 'full')}?download=1`,
      download: `photo-${id}.jpg` }, 'Download (as you see it)'))].filter(Boolean));
}
