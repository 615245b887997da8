// My data: export everything stored about me, delete my enrolment, delete my account. The audit trail of my
// decisions is shown here too.
import { api, setCsrf } from '../api.mjs';
import { h, page, say, action, when } from '../ui.mjs';
import { go, refreshMe } from '../app.mjs';

const ACTIONS = { approve: 'approved', decline: 'declined', withdraw: 'withdrew', rule: 'decided by your rule', unknown: 'became unknown' };

export async function render(_arg, ctx) {
  const me = await refreshMe();
  const audit = await api('GET', '/api/audit');
  const confirmName = h('input', { id: 'confirm-name', autocomplete: 'off', 'aria-describedby': 'confirm-help' });
  page('My data',
    h('section', { class: 'card' }, h('h2', {}, 'Export'),
      h('p', {}, 'Everything stored about you as a JSON file: your account, friends, decisions and the list of your photos. ' +
        'The numbers describing your face are never given out, not even to you; only their count.'),
      h('a', { class: 'button primary', href: '/api/export', download: `mfmc-${me.name}.json`, id: 'export' }, 'Download my data')),
    h('section', { class: 'card' }, h('h2', {}, 'My enrolment'),
      h('p', { id: 'enrolled' }, me.enrolled ? `${me.enrolled} selfie${me.enrolled === 1 ? '' : 's'} enrolled.` : 'You are not enrolled.'),
      h('p', {}, 'Deleting it removes every stored description of your face. You are then no longer recognised in new photos ' +
        '(so nobody asks you, and your face in them is replaced as unknown).'),
      action('Delete my enrolment', async () => {
        if (!confirm('Delete your enrolment? You will not be recognised in new photos until you enrol again.')) return;
        await api('DELETE', '/api/enrol');
        say('Your enrolment is deleted.');
        await render('', ctx);
      }, { class: 'danger', id: 'delete-enrolment', disabled: !me.enrolled })),
    h('section', { class: 'card' }, h('h2', {}, 'My decisions'),
      audit.length ? h('ul', { class: 'audit' }, audit.slice().reverse().map((a) => h('li', {},
        h('time', { datetime: new Date(a.at * 1000).toISOString() }, when(a.at)), ` — photo ${a.photo}, face ${a.face + 1}: ` +
        `${ACTIONS[a.action] || a.action}${a.action === 'approve' ? (a.audience === 'friends' ? ' for friends' : ' for everyone') : ''}`)))
        : h('p', { class: 'empty' }, 'No decisions yet.')),
    h('section', { class: 'card danger-zone' }, h('h2', {}, 'Delete my account'),
      h('p', {}, 'This deletes your account, your photos, your enrolment and your decisions. In other people\'s photos your ' +
        'face becomes unknown and is replaced for everyone. It cannot be undone.'),
      h('div', { class: 'field' }, h('label', { for: 'confirm-name' }, 'Type your user name to confirm'), confirmName,
        h('p', { class: 'help', id: 'confirm-help' }, `Your user name is ${me.name}.`)),
      action('Delete my account', async () => {
        if (confirmName.value.trim() !== me.name) { say(`Type your user name (${me.name}) in the box to confirm.`, 'error'); confirmName.focus(); return; }
        await api('DELETE', '/api/me');
        ctx.me = null;
        setCsrf('');
        say('Your account and everything in it are deleted.');
        go('signup');
      }, { class: 'danger', id: 'delete-account' })));
}
