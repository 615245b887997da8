// Enrolment: 1-5 selfies, uploaded from files or taken with the webcam (getUserMedia). Each selfie is analysed
// by the server off the request path; this page waits for it and says whether a face was found in it.
import { api, upload } from '../api.mjs';
import { h, page, say, action, sleep } from '../ui.mjs';
import { refreshMe } from '../app.mjs';

let stream = null;
function stopCamera() { if (stream) { stream.getTracks().forEach((t) => t.stop()); stream = null; } }
window.addEventListener('hashchange', stopCamera);

// Why a selfie added nothing: the server's `last_selfie` outcome where it reports one, else "no face".
const OUTCOME = {
  no_face: 'no face found. Take a picture of your face alone, facing the camera, in good light, and try again.',
  several_faces: 'more than one face in it. Use a picture with only your face (crop the others out) and try again.',
  not_an_image: 'this picture could not be read. Use a JPEG, PNG or WebP photo under 20 MB.',
  limit: 'you already have 5 selfies enrolled. Delete your enrolment on "My data" to start again.',
};

// Uploads one selfie and waits for its analysis: true when it added a face to the enrolment.
async function sendSelfie(blob, label, log) {
  const before = await api('GET', '/api/enrol');
  const line = h('li', {}, `${label}: uploading…`);
  log.append(line);
  await upload('/api/enrol', blob, (f) => { line.textContent = `${label}: uploading… ${Math.round(100 * f)}%`; });
  line.textContent = `${label}: looking for your face…`;
  for (;;) {
    const now = await api('GET', '/api/enrol');
    // done when no selfie waits (`pending` count) and, where the server reports it, the last outcome is known
    if ((now.pending === undefined || now.pending === 0) && now.last_selfie !== 'pending') {
      const ok = now.enrolled > before.enrolled && (!now.last_selfie || now.last_selfie === 'ok');
      line.className = ok ? 'ok' : 'error';
      line.textContent = ok ? `${label}: one face found and enrolled (${now.enrolled} of ${now.max || 5}).`
        : `${label}: ${OUTCOME[now.last_selfie] || OUTCOME.no_face}`;
      return ok;
    }
    await sleep(1000);
  }
}

export async function render(_arg, ctx) {
  const st = await api('GET', '/api/enrol');
  const max = st.max || (ctx.config ? ctx.config.enrol_max : 5);
  const log = h('ul', { class: 'log', id: 'enrol-log', 'aria-live': 'polite' });
  const count = h('p', { id: 'enrol-count', class: 'big' }, `${st.enrolled} of ${max} selfies enrolled.`);
  // selfies enrolled before the server kept every recognizer's numbers: synthetic faces drawn for strangers are
  // checked against them by one recognizer only (the server's `primary_only` count)
  const older = h('p', { id: 'enrol-older', class: 'notice', hidden: true });
  const showOlder = (s) => {
    const n = s.primary_only || 0;
    older.hidden = n === 0;
    older.textContent = n === 0 ? '' : `${n} of your selfies ${n === 1 ? 'was' : 'were'} enrolled before this server ` +
      'checked replacement faces with both of its face recognizers. To be fully covered (no synthetic face drawn for ' +
      'someone else may look like you), delete your enrolment on "My data" and enrol again.';
  };
  showOlder(st);
  const refresh = async () => {
    const s = await api('GET', '/api/enrol');
    count.textContent = `${s.enrolled} of ${max} selfies enrolled.`;
    showOlder(s);
    await refreshMe();
    return s;
  };
  const input = h('input', { type: 'file', id: 'selfie-files', accept: 'image/jpeg,image/png,image/webp', multiple: true, class: 'file' });
  input.addEventListener('change', async () => {
    const files = [...input.files];
    input.value = '';
    const room = max - (await refresh()).enrolled;
    if (files.length > room) say(`You can add ${room} more selfie${room === 1 ? '' : 's'}; only the first ${room} are used.`, 'error');
    let ok = 0;
    for (const [i, f] of files.slice(0, Math.max(0, room)).entries()) {
      try { if (await sendSelfie(f, `Selfie ${i + 1} (${f.name})`, log)) ok++; } catch (e) { log.append(h('li', { class: 'error' }, e.message)); }
    }
    await refresh();
    say(`${ok} of ${Math.min(files.length, Math.max(0, room))} selfie(s) enrolled.`, ok ? 'ok' : 'error');
  });

  const video = h('video', { id: 'camera', autoplay: true, playsinline: true, muted: true, hidden: true, 'aria-label': 'Webcam preview' });
  const shot = action('Take this selfie', async () => {
    const c = document.createElement('canvas');
    c.width = video.videoWidth;
    c.height = video.videoHeight;
    c.getContext('2d').drawImage(video, 0, 0);
    const blob = await new Promise((r) => c.toBlob(r, 'image/jpeg', 0.92));
    if (!blob) throw new Error('The camera gave no picture. Try again.');
    const ok = await sendSelfie(blob, 'Webcam selfie', log);
    await refresh();
    say(ok ? 'Selfie enrolled.' : 'No face found in that selfie: face the camera in good light and try again.', ok ? 'ok' : 'error');
  }, { hidden: true, class: 'primary', id: 'take-selfie' });
  const cam = action('Use my webcam', async (b) => {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new Error('This browser cannot use a webcam here. Upload a selfie file instead.');
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'user', width: { ideal: 1280 } }, audio: false });
    } catch (e) {
      throw new Error(e && e.name === 'NotAllowedError' ? 'The webcam was not allowed. Allow it in the browser, or upload a selfie file instead.'
        : 'No webcam could be opened. Upload a selfie file instead.');
    }
    video.srcObject = stream;
    video.hidden = false;
    shot.hidden = false;
    b.hidden = true;
    say('Webcam on. Look at the camera, then press "Take this selfie".');
  }, { id: 'use-camera' });

  page('My face',
    h('p', { class: 'lead' }, 'Enrol your face so mfmc recognises you in photos others post and asks you first. ' +
      `Use 1 to ${max} selfies: only your face, facing the camera, in good light. The pictures are analysed and ` +
      'dropped; only numbers describing your face are kept, never shown to anyone, and deleted when you delete your enrolment.'),
    count, older,
    h('section', { class: 'card' }, h('h2', {}, 'Upload selfies'),
      input, h('label', { for: 'selfie-files', class: 'button primary' }, 'Choose selfie files…'),
      h('p', { class: 'help' }, 'One face per picture: crop other people out.')),
    h('section', { class: 'card' }, h('h2', {}, 'Or take them with your webcam'), video, h('div', { class: 'actions' }, cam, shot)),
    h('h2', {}, 'Results'), log,
    h('p', {}, 'To remove your enrolment, go to ', h('a', { href: '#/data' }, 'My data'), '.'));
}
