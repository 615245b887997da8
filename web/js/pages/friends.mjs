// Friends: find someone by user name and ask them, accept or decline requests, remove friends. Friends see
// the faces you approve "for my friends only".
import { api } from '../api.mjs';
import { h, page, say, action } from '../ui.mjs';
import { refreshCounts } from '../app.mjs';

export async function render(_arg, ctx) {
  const list = await api('GET', '/api/friends');
  const name = h('input', { id: 'friend-name', name: 'friend', autocomplete: 'off', required: true, maxlength: '64',
    'aria-describedby': 'friend-help' });
  const err = h('p', { class: 'error', role: 'alert', id: 'friend-error' });
  const ask = h('button', { type: 'submit', class: 'primary' }, 'Ask to be friends');
  const form = h('form', { class: 'card', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'friend-name' }, 'Their user name'), name,
      h('p', { class: 'help', id: 'friend-help' }, 'Type the exact user name; they are asked, and become your friend when they accept.')),
    err, ask);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    const n = name.value.trim();
    if (!n) { err.textContent = 'Type a user name.'; name.focus(); return; }
    if (ctx.me && n === ctx.me.name) { err.textContent = 'That is you. Type the name of someone else.'; return; }
    ask.disabled = true;
    try {
      const r = await api('POST', '/api/friends', { name: n });
      say(r.state === 'friend' ? `You and ${r.name} are now friends.` : `Request sent to ${r.name}. They become your friend when they accept.`);
      await render('', ctx);
      await refreshCounts();
    } catch (ex) {
      err.textContent = ex.code === 'not_found' ? `Nobody is called "${n}". Check the spelling (names are case-sensitive).` : ex.message;
      say(err.textContent, 'error');
      ask.disabled = false;
    }
  });
  const row = (u, ...buttons) => h('li', { class: 'person', id: `friend-${u.name}` }, h('span', { class: 'name' }, u.name), h('span', { class: 'actions' }, buttons));
  const again = async (msg) => { say(msg); await render('', ctx); await refreshCounts(); };
  const section = (title, id, items, empty) => h('section', { class: 'card', 'aria-labelledby': `${id}-h` }, h('h2', { id: `${id}-h` }, title),
    items.length ? h('ul', { class: 'people', id }, items) : h('p', { class: 'empty', id }, empty));
  page('Friends', h('p', { class: 'lead' }, 'Friends see your photos, and your face where you approved it for friends only.'),
    form,
    section('Asking you', 'asks', list.filter((u) => u.state === 'asks_you').map((u) => row(u,
      action(`Accept ${u.name}`, async () => { await api('POST', '/api/friends', { name: u.name }); await again(`You and ${u.name} are now friends.`); }, { class: 'primary' }),
      action(`Decline ${u.name}`, async () => { await api('DELETE', `/api/friends/${u.id}`); await again(`Request of ${u.name} declined.`); }))),
    'Nobody is asking you right now.'),
    section('Your friends', 'friends', list.filter((u) => u.state === 'friend').map((u) => row(u,
      action(`Remove ${u.name}`, async () => {
        if (!confirm(`Remove ${u.name} from your friends? They no longer see faces you approved for friends only.`)) return;
        await api('DELETE', `/api/friends/${u.id}`); await again(`${u.name} is no longer your friend.`);
      }, { class: 'danger' }))),
    'No friends yet: ask someone above.'),
    section('You asked', 'asked', list.filter((u) => u.state === 'asked').map((u) => row(u,
      action(`Cancel request to ${u.name}`, async () => { await api('DELETE', `/api/friends/${u.id}`); await again(`Request to ${u.name} cancelled.`); }))),
    'No requests waiting.'));
}
