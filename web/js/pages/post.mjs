// Posting a photo: drag and drop or a file picker, upload progress, then the analysis (done off the request
// path by the server) polled until the faces are found, shown as boxes.
import { upload } from '../api.mjs';
import { h, page, say } from '../ui.mjs';
import { api } from '../api.mjs';
import { figure, waitReady } from './photo.mjs';

const TYPES = ['image/jpeg', 'image/png', 'image/webp'];

export async function render(_arg, ctx) {
  const max = ctx.config ? ctx.config.upload_max_bytes : 20 << 20;
  const input = h('input', { type: 'file', id: 'photo-file', accept: TYPES.join(','), class: 'file' });
  const progress = h('progress', { id: 'upload-progress', max: '100', value: '0', hidden: true, 'aria-label': 'Upload progress' });
  const state = h('p', { id: 'post-state', role: 'status', 'aria-live': 'polite' });
  const result = h('div', { id: 'post-result' });
  const zone = h('div', { class: 'drop', id: 'drop-zone' },
    h('p', {}, 'Drop a photo here, or'),
    input, h('label', { for: 'photo-file', class: 'button primary' }, 'Choose a photo…'),
    h('p', { class: 'help' }, `JPEG, PNG or WebP, up to ${Math.round(max / 1048576)} MB. Location and other metadata are removed.`));
  async function send(file) {
    if (!file) return;
    if (file.type && !TYPES.includes(file.type)) { say('That file is not a JPEG, PNG or WebP picture. Choose another file.', 'error'); return; }
    if (file.size > max) { say(`That file is ${(file.size / 1048576).toFixed(1)} MB: the limit is ${Math.round(max / 1048576)} MB. Use a smaller picture.`, 'error'); return; }
    result.replaceChildren();
    progress.hidden = false;
    progress.value = 0;
    state.textContent = `Uploading ${file.name}…`;
    try {
      const r = await upload('/api/photos', file, (f) => { progress.value = Math.round(100 * f); state.textContent = `Uploading… ${Math.round(100 * f)}%`; });
      progress.value = 100;
      state.textContent = 'Uploaded. Finding and recognising faces…';
      say('Photo uploaded; the faces are being analysed.');
      const p = await waitReady(r.id);
      if (p.state === 'failed') { state.textContent = 'This photo could not be analysed (damaged file or too many faces). Post another one.'; return; }
      const faces = await api('GET', `/api/photos/${p.id}/faces`);
      state.textContent = `Done: ${faces.length} face${faces.length === 1 ? '' : 's'} found. People who were recognised are asked; until they approve, they are shown as synthetic faces.`;
      say('Your photo is posted.');
      result.replaceChildren(figure(p, faces), h('p', {}, h('a', { href: `#/photo/${p.id}` }, `Open photo ${p.id}`)));
    } catch (e) {
      state.textContent = e.message;
      say(e.message, 'error');
    } finally {
      progress.hidden = true;
      input.value = '';
    }
  }
  input.addEventListener('change', () => send(input.files[0]));
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => { e.preventDefault(); zone.classList.remove('over'); send(e.dataTransfer.files[0]); });
  page('Post a photo', h('p', { class: 'lead' }, 'Everyone recognised in your photo is asked before their face is shown. ' +
    'You too see other people\'s faces only where they approved.'), zone, progress, state, result);
}
