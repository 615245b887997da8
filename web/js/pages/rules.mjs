// My standing rule: what happens when I am recognised in a new photo, before I look at it.
import { api } from '../api.mjs';
import { h, page, say } from '../ui.mjs';
import { refreshMe } from '../app.mjs';

const RULES = [
  ['ask', 'Ask me every time', 'Your face stays replaced until you approve the photo. (Default.)'],
  ['friends', 'Approve photos posted by my friends', 'Photos your friends post show you to everyone who can see them; others still ask you.'],
  ['never', 'Never show my face', 'Every new photo of you is declined at once; you can still approve one later by hand.'],
];

export async function render(_arg, ctx) {
  const me = await refreshMe();
  const strict = ctx.config && ctx.config.access_model === 'strict';
  const fs = h('fieldset', {}, h('legend', {}, 'When I am recognised in a new photo'),
    RULES.map(([v, label, help]) => h('div', { class: 'radio' },
      h('input', { type: 'radio', name: 'rule', id: `rule-${v}`, value: v, checked: me.rule === v, 'aria-describedby': `rule-${v}-help` }),
      h('label', { for: `rule-${v}` }, label), h('p', { class: 'help', id: `rule-${v}-help` }, help))));
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save my rule');
  const form = h('form', { class: 'card' }, fs, save);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = form.querySelector('input[name=rule]:checked').value;
    save.disabled = true;
    try {
      await api('PUT', '/api/me/rule', { rule: v });
      say(`Saved: ${RULES.find((r) => r[0] === v)[1]}.`);
    } catch (err) { say(err.message, 'error'); } finally { save.disabled = false; }
  });
  page('My rules', h('p', { class: 'lead' }, 'Your standing rule decides for you when you are recognised in a new photo. ' +
    'It does not change decisions you already made.'),
  strict ? h('p', { class: 'note' }, 'This site uses the strict model: a face not approved by your rule when a photo is posted ' +
    'is replaced for good, so "Ask me every time" means your face never appears in new photos.') : null, form);
}
