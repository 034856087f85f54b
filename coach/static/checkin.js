/* The mood check-in on the chat page: how the seeker feels (1 to 5) at the start of
 * a session and again before they go, stored through the JSON API. */
'use strict';

(function () {
  const form = document.getElementById('checkin-form');
  if (!form) {
    return;
  }
  const status = document.getElementById('checkin-status');
  const legend = document.getElementById('checkin-legend');
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const url = '/api/v1/sessions/' + encodeURIComponent(form.dataset.sessionId) + '/checkins';
  let startScore = null;

  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    const chosen = form.querySelector('input[name="score"]:checked');
    if (!chosen) {
      status.textContent = 'Pick a number from 1 to 5 first.';
      return;
    }
    const moment = form.dataset.moment;
    try {
      const response = await fetch(url, {
        method: 'POST',
        credentials: 'same-origin',
        headers: {
          'Content-Type': 'application/json',
          'Accept': 'application/json',
          'X-CSRF-Token': csrfMeta ? csrfMeta.content : '',
        },
        body: JSON.stringify({ moment: moment, score: Number(chosen.value) }),
      });
      const data = await response.json().catch(function () { return null; });
      if (!response.ok) {
        throw new Error(data && data.error ? data.error.message : 'Saving did not work.');
      }
      chosen.checked = false;
      if (moment === 'start') {
        startScore = data.score;
        form.dataset.moment = 'end';
        legend.textContent = 'Before you go: how are you feeling now?';
        status.textContent = 'Thank you. You can tell me again at the end.';
      } else {
        form.hidden = true;
        status.textContent = startScore === null
          ? 'Thank you for checking in.'
          : 'You started at ' + startScore + ' of 5 and ended at ' + data.score + ' of 5.';
      }
    } catch (error) {
      status.textContent = error.message;
    }
  });
})();
