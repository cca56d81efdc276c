// The enrol page: asks the site every 1.5 s whether a phone has enrolled for the new user yet.
const status = document.getElementById('enrol-status');
const done = document.getElementById('enrol-done');

async function check() {
  try {
    const res = await fetch('/signup/status', { headers: { accept: 'application/json' } });
    const body = await res.json();
    if (body.enrolled) {
      status.textContent = 'Your phone is added. Taking you to the login page…';
      status.classList.add('ok');
      done.hidden = false;
      setTimeout(() => location.assign('/login?enrolled'), 1500);
      return;
    }
    if (body.expired) {
      status.textContent = 'The enrol code has expired. Start again to get a new one.';
      status.classList.add('bad');
      done.hidden = false;
      done.innerHTML = '<a class="button" href="/signup">Start again</a>';
      return;
    }
  } catch {
    // The network blinked; try again at the next tick.
  }
  setTimeout(check, 1500);
}
setTimeout(check, 1500);
