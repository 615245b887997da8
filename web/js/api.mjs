// The JSON API of mfmc serve (docs/openapi.yaml): one place for the CSRF header, error codes and what they mean
// to a person. Every state-changing call carries X-CSRF-Token (the session's token, from /api/me or login).
let csrf = '';
export function setCsrf(t) { csrf = t || ''; }

// What to tell a person for each error code of the server (the server's codes are fixed; see openapi.yaml).
const MESSAGES = {
  bad_credentials: 'The name or the password is wrong. Check both and try again.',
  too_many_attempts: 'Too many failed log-ins. Wait five minutes, then try again.',
  name_taken: 'That name is taken. Choose another one.',
  password_too_short: 'The password is too short: use at least 8 characters.',
  bad_request: 'Names may use letters, digits, dot, dash and underscore (up to 64); passwords up to 256 characters.',
  not_signed_in: 'You are not logged in (or your session ended). Log in again.',
  csrf: 'Your session token is out of date. Reload the page and try again.',
  not_an_image: 'That file is not a picture we can read. Use a JPEG, PNG or WebP file.',
  too_large: 'That file is too large (20 MB at most). Use a smaller picture.',
  enrolment_full: 'You already have 5 selfies enrolled. Delete your enrolment on "My data" to start again.',
  not_found: 'Not found: it does not exist, or you may not see it.',
  pending: 'This photo is still being analysed. It appears here when that is done.',
  failed: 'This photo could not be analysed (damaged file or too many faces). Post another one.',
  bad_name: 'Type the exact user name of the person.',
  unavailable: 'The server is busy. Try again in a moment.',
  internal: 'Something went wrong on the server. Try again; if it keeps failing, tell the administrator.',
  network: 'The server cannot be reached. Check your connection and try again.',
};
export function explain(code) { return MESSAGES[code] || `The server refused this (${code}). Try again.`; }

export class ApiError extends Error {
  constructor(status, code) { super(explain(code)); this.status = status; this.code = code; }
}

export async function api(method, path, body) {
  const opt = { method, headers: {}, credentials: 'same-origin' };
  if (method !== 'GET') opt.headers['X-CSRF-Token'] = csrf;
  if (body !== undefined) {
    opt.headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body);
  }
  let res;
  try { res = await fetch(path, opt); } catch { throw new ApiError(0, 'network'); }
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  if (!res.ok) throw new ApiError(res.status, (data && data.error) || 'internal');
  return data;
}

// Upload of raw image bytes with progress (fetch has no upload progress; XMLHttpRequest has).
export function upload(path, blob, onProgress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('POST', path);
    x.setRequestHeader('X-CSRF-Token', csrf);
    x.setRequestHeader('Content-Type', 'application/octet-stream');
    x.upload.onprogress = (e) => { if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total); };
    x.onload = () => {
      let d = null;
      try { d = JSON.parse(x.responseText); } catch { d = null; }
      if (x.status >= 200 && x.status < 300) resolve(d);
      else reject(new ApiError(x.status, (d && d.error) || (x.status === 413 ? 'too_large' : 'internal')));
    };
    x.onerror = () => reject(new ApiError(0, 'network'));
    x.send(blob);
  });
}

// URLs of a photo's image at the sizes the server renders (thumb 256 px, medium 1024 px, full).
export function imageUrl(id, size, others) {
  const q = [];
  if (size && size !== 'full') q.push(`size=${size}`);
  if (others) q.push('as=others');
  return `/api/photos/${id}/image${q.length ? '?' + q.join('&') : ''}`;
}
