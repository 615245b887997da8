// Sign up and log in (one form, two modes). The session is an HttpOnly cookie; the CSRF token comes back in
// the JSON and is kept in memory only.
import { api, setCsrf } from '../api.mjs';
import { h, page, say } from '../ui.mjs';
import { go, refreshCounts, refreshMe, ctx } from '../app.mjs';

export async function render(mode) {
  const signup = mode === 'signup';
  const min = ctx.config ? ctx.config.password_min : 8;
  const name = h('input', { id: 'name', name: 'username', autocomplete: 'username', required: true, maxlength: '64',
    pattern: '[A-Za-z0-9._\\-]+', 'aria-describedby': 'name-help' });
  const pw = h('input', { id: 'password', name: 'password', type: 'password', required: true,
    minlength: signup ? String(min) : null, autocomplete: signup ? 'new-password' : 'current-password',
    'aria-describedby': signup ? 'pw-help' : null });
  const err = h('p', { class: 'error', id: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary' }, signup ? 'Create my account' : 'Log in');
  const form = h('form', { class: 'card narrow', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'name' }, 'User name'), name,
      h('p', { class: 'help', id: 'name-help' }, 'Letters, digits, dot, dash or underscore. Friends find you by it.')),
    h('div', { class: 'field' }, h('label', { for: 'password' }, 'Password'), pw,
      signup ? h('p', { class: 'help', id: 'pw-help' }, `At least ${min} characters.`) : null),
    err, submit,
    h('p', {}, signup ? 'Already have an account? ' : 'New here? ',
      h('a', { href: signup ? '#/login' : '#/signup' }, signup ? 'Log in' : 'Sign up')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    if (!name.value.trim()) { err.textContent = 'Type your user name.'; name.focus(); return; }
    if (!pw.value) { err.textContent = 'Type your password.'; pw.focus(); return; }
    if (signup && pw.value.length < min) { err.textContent = `The password is too short: use at least ${min} characters.`; pw.focus(); return; }
    submit.disabled = true;
    say(signup ? 'Creating your account…' : 'Logging in…', 'busy');
    try {
      const me = await api('POST', signup ? '/api/signup' : '/api/login', { name: name.value.trim(), password: pw.value });
      setCsrf(me.csrf);
      ctx.me = { ...me, enrolled: 0, rule: 'ask' };
      ctx.pending = -1;
      say(signup ? `Welcome, ${me.name}. Next: enrol your face so you are asked about photos of you.` : `Logged in as ${me.name}.`);
      await refreshCounts();
      await refreshMe();
      go(signup ? 'enrol' : 'feed');
    } catch (e) {
      err.textContent = e.message;
      say(e.message, 'error');
      submit.disabled = false;
    }
  });
  page(signup ? 'Sign up' : 'Log in',
    h('p', { class: 'lead' }, 'mfmc is a photo network where your face appears only in the photos you approve. ' +
      'Everyone else in a photo is shown as a synthetic face of nobody.'), form);
}
