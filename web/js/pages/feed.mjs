// The feed: photos the viewer may see (their own, their friends', photos they are in), newest first, as
// thumbnails rendered for this viewer. Photos still being analysed update themselves.
import { api } from '../api.mjs';
import { h, page, photoImg, when, sleep, action, say } from '../ui.mjs';

export async function render() {
  const list = h('ul', { class: 'grid', id: 'feed' });
  page('Feed', h('p', { class: 'lead' }, 'Photos of your friends, your own, and photos you are in. Faces appear as they ' +
    'were approved for you; every other face is a synthetic face of nobody.'),
    h('p', {}, h('a', { class: 'button primary', href: '#/post' }, 'Post a photo')), list);
  const photos = await api('GET', '/api/photos');
  if (!photos.length) {
    list.replaceWith(h('p', { class: 'empty', id: 'feed' }, 'No photos yet. Post one, or add friends to see theirs.'));
    return;
  }
  list.replaceChildren(...photos.map(card));
  if (photos.length >= 100) { // the server's page size: older photos on demand
    const more = action('Show older photos', async () => {
      const older = await api('GET', `/api/photos?before=${photos[photos.length - 1].id}`);
      list.append(...older.map(card));
      photos.push(...older);
      if (older.length < 100) more.remove();
      say(older.length ? `${older.length} older photo${older.length === 1 ? '' : 's'} shown.` : 'No older photos.');
    }, { id: 'older' });
    list.after(more);
  }
  if (photos.some((p) => p.state === 'pending')) {
    await sleep(3000);
    if (location.hash === '#/feed' || location.hash === '') render();
  }
}

function card(p) {
  const who = p.owner.name || 'someone';
  const alt = `Photo ${p.id} posted by ${who}${p.faces ? `, ${p.faces} face${p.faces > 1 ? 's' : ''}` : ''}`;
  const body = p.state === 'ready' ? photoImg(p, alt, '(max-width: 640px) 100vw, 300px')
    : h('div', { class: 'placeholder', role: 'img', 'aria-label': `Photo ${p.id}, ${p.state}` },
      p.state === 'pending' ? 'Analysing faces…' : 'Could not be analysed');
  return h('li', { class: 'card photo-card' },
    h('a', { href: `#/photo/${p.id}`, class: 'thumb' }, body),
    h('p', { class: 'meta' }, h('a', { href: `#/photo/${p.id}` }, `Photo ${p.id}`), ` by ${who} · `,
      h('time', { datetime: new Date(p.created * 1000).toISOString() }, when(p.created)),
      p.state === 'ready' ? ` · ${p.faces} face${p.faces === 1 ? '' : 's'}` : ''));
}
