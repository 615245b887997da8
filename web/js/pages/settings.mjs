// Settings: how this deployment keeps photos (its access model), in plain words, and what the person can set.
import { h, page } from '../ui.mjs';

const MODELS = {
  open: ['Open', [
    'Each photo is stored once, encrypted. Every time someone looks at it, the server draws it for them: your real face ' +
    'only if you approved it for them, a synthetic face of nobody otherwise.',
    'Your decisions act at once, also on old photos: approve later and people see you; withdraw and they stop seeing you on their next reload.',
    'The trade-off: the original photo exists on the server (encrypted), so whoever runs the server with its key could see every face.']],
  sealed: ['Sealed', [
    'When a photo is posted, every face is replaced and that version is stored. Each real face is locked away separately with its own key.',
    'Only people you approved get your face put back. Your decisions act at once, also on old photos.',
    'The trade-off: the real faces still exist (each locked separately), so approvals can be given later.']],
  strict: ['Strict', [
    'Faces are decided the moment a photo is posted, by each person\'s standing rule. A face not approved then is replaced ' +
    'for good: its real pixels are deleted.',
    'A later approval cannot bring it back. With the default rule "ask me", you never appear in new photos, not even to yourself.',
    'The trade-off: the most private model, and the least flexible. Set "My rules" before friends post photos of you.']],
};

export async function render(_arg, ctx) {
  const c = ctx.config;
  const m = c && MODELS[c.access_model];
  page(ctx.me ? 'Settings' : 'About mfmc',
    h('section', { class: 'card', id: 'access-model' }, h('h2', {}, m ? `How this site keeps photos: ${m[0]}` : 'How this site keeps photos'),
      m ? m[1].map((t) => h('p', {}, t)) : h('p', { class: 'error' }, 'The server did not say which model it uses. Reload the page.')),
    h('section', { class: 'card' }, h('h2', {}, 'Always, whatever the model'),
      h('ul', {},
        h('li', {}, 'A face that matches nobody enrolled is always replaced; nobody can approve it.'),
        h('li', {}, 'The person who posts a photo is not special: they see other people\'s faces only where those people approved.'),
        h('li', {}, 'You always see your own face (except under the strict model when it was replaced for good).'),
        h('li', {}, 'A synthetic face stays the same when you reload a photo, and tells nothing about the real one.'),
        h('li', {}, 'Location and other hidden data in uploaded pictures are removed.'))),
    ctx.me ? h('section', { class: 'card' }, h('h2', {}, 'Your settings'),
      h('ul', {},
        h('li', {}, h('a', { href: '#/rules' }, 'My rules'), ': what happens when you are recognised in a new photo.'),
        h('li', {}, h('a', { href: '#/enrol' }, 'My face'), ': enrol the selfies that let mfmc recognise you.'),
        h('li', {}, h('a', { href: '#/friends' }, 'Friends'), ': who sees faces you approve for friends only.'),
        h('li', {}, h('a', { href: '#/data' }, 'My data'), ': export, delete your enrolment or your account.')))
      : h('p', {}, h('a', { class: 'button primary', href: '#/signup' }, 'Sign up'), ' ', h('a', { class: 'button', href: '#/login' }, 'Log in')));
}
