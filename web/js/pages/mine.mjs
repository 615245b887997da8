// "Photos of me": every face of mine that the server recognised. Requests waiting for a decision first, side
// by side: my face as I see it (real: a person always sees their own face) and as people who are not my
// friends see it now. Approve for everyone, for my friends only, or decline; withdraw later.
import { api, imageUrl } from '../api.mjs';
import { h, page, say, action, decisionWords } from '../ui.mjs';
import { refreshCounts } from '../app.mjs';

const S = 140; // px of each crop (two side by side fit a 375 px screen)

// A square crop of the photo around the face (the box grown like the server's replacement region).
function crop(p, f, others, alt) {
  const W = p.width, H = p.height, b = f.box;
  const side = Math.min(Math.max(1.5 * b.w, 1.6 * b.h), W, H);
  const cx = b.x + b.w / 2, cy = b.y + 0.45 * b.h;
  const x0 = Math.max(0, Math.min(W - side, cx - side / 2)), y0 = Math.max(0, Math.min(H - side, cy - side / 2));
  const k = S / side;
  const img = h('img', { src: imageUrl(p.id, W * k > 256 ? 'medium' : 'thumb', others), alt, loading: 'lazy',
    decoding: 'async', style: { width: `${W * k}px`, height: `${H * k}px`, left: `${-x0 * k}px`, top: `${-y0 * k}px` } });
  return h('div', { class: 'crop' }, img);
}

export async function render(_arg, ctx) {
  const pendingList = h('div', { id: 'requests' }), decidedList = h('div', { id: 'decided' });
  page('Photos of me',
    h('p', { class: 'lead' }, 'Photos in which you were recognised. Nobody sees your real face in a photo until you approve it; ' +
      'you can withdraw an approval at any time.'),
    h('h2', {}, 'Waiting for your decision'), pendingList, h('h2', {}, 'Decided'), decidedList,
    h('p', { class: 'help' }, 'Your standing rule can decide for you: ', h('a', { href: '#/rules' }, 'My rules'), '.'));
  const mine = await api('GET', '/api/me/faces');
  const photos = new Map();
  const items = [];
  for (const m of mine) {
    if (!photos.has(m.photo)) {
      try {
        const p = await api('GET', `/api/photos/${m.photo}`);
        const faces = p.state === 'ready' ? await api('GET', `/api/photos/${m.photo}/faces`) : [];
        photos.set(m.photo, { p, faces });
      } catch { photos.set(m.photo, null); }
    }
    const ph = photos.get(m.photo);
    const f = ph && ph.faces.find((x) => x.idx === m.face);
    if (f) items.push(item(ph.p, f, ctx));
  }
  const pend = items.filter((i) => i.pending).map((i) => i.el), done = items.filter((i) => !i.pending).map((i) => i.el);
  pendingList.replaceChildren(...(pend.length ? pend : [h('p', { class: 'empty' }, 'Nothing is waiting for you.')]));
  decidedList.replaceChildren(...(done.length ? done : [h('p', { class: 'empty' }, 'No decisions yet.')]));
}

function item(p, f, ctx) {
  const n = f.idx + 1, who = p.owner.name || 'someone';
  const decide = (body, done) => action(body.label, async () => {
    await api('POST', `/api/photos/${p.id}/faces/${f.idx}/decision`, body.req);
    say(done);
    await refreshCounts();
    await render('', ctx);
  }, { class: body.cls || '', 'data-action': body.id });
  const buttons = [];
  if (f.discarded) {
    buttons.push(h('p', { class: 'help' }, 'This photo was posted under the strict model: your face was replaced for good ' +
      'when it was posted, so no approval can bring it back.'));
  } else {
    if (!(f.decision === 'approved' && f.audience === 'everyone'))
      buttons.push(decide({ id: 'approve-everyone', label: 'Approve for everyone', cls: 'primary', req: { action: 'approve', audience: 'everyone' } },
        `Face ${n} in photo ${p.id}: approved for everyone who can see the photo.`));
    if (!(f.decision === 'approved' && f.audience === 'friends'))
      buttons.push(decide({ id: 'approve-friends', label: 'Approve for my friends only', req: { action: 'approve', audience: 'friends' } },
        `Face ${n} in photo ${p.id}: approved for your friends only.`));
    if (f.decision === 'approved')
      buttons.push(decide({ id: 'withdraw', label: 'Withdraw my approval', cls: 'danger', req: { action: 'withdraw' } },
        `Face ${n} in photo ${p.id}: approval withdrawn. Others now see a synthetic face.`));
    else if (f.decision !== 'declined')
      buttons.push(decide({ id: 'decline', label: 'Decline', cls: 'danger', req: { action: 'decline' } },
        `Face ${n} in photo ${p.id}: declined. Others see a synthetic face instead of yours.`));
  }
  const el = h('section', { class: 'card request', id: `req-${p.id}-${f.idx}`, 'aria-labelledby': `req-${p.id}-${f.idx}-h` },
    h('h3', { id: `req-${p.id}-${f.idx}-h` }, h('a', { href: `#/photo/${p.id}` }, `Photo ${p.id}`), ` by ${who}, face ${n}`),
    h('div', { class: 'pair' },
      h('figure', {}, crop(p, f, false, `face ${n} in photo ${p.id}, as you see it`), h('figcaption', {}, 'You see')),
      h('figure', {}, crop(p, f, true, `face ${n} in photo ${p.id}, as people who are not your friends see it now`),
        h('figcaption', {}, 'Non-friends see now'))),
    h('p', { class: 'decision' }, `Now: ${decisionWords(f)}.`),
    h('div', { class: 'actions' }, buttons));
  return { el, pending: f.decision === 'pending' && !f.discarded };
}
