/* The plan page: ticking steps off (with a brief celebration read out in a live
 * region), editing and adding steps, renaming goals, the journal, and the exports
 * (copy as Markdown, print). Every change goes through the JSON API; ticking
 * updates the page from the plan the API answers with, other edits reload it so
 * that the server's rendering stays the one truth. */
'use strict';

(function () {
  const root = document.querySelector('.plan-page[data-plan-id]');
  if (!root) {
    return;
  }
  const apiBase = root.dataset.apiBase || '/api/v1';
  const planUrl = apiBase + '/plans/' + encodeURIComponent(root.dataset.planId);
  const sessionUrl = apiBase + '/sessions/' + encodeURIComponent(root.dataset.sessionId);
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrfToken = csrfMeta ? csrfMeta.content : '';
  const statusText = document.getElementById('plan-status');
  const errorText = document.getElementById('plan-error');
  const CHEERS = [
    'Step done. Well done: small wins add up.',
    'Ticked off. That is real progress.',
    'Nice work. One step closer.',
    'Done! Take a moment to notice it.',
  ];
  let cheer = 0;

  function announce(text) {
    // Cleared first, so that a screen reader repeats an identical message.
    statusText.textContent = '';
    window.setTimeout(function () {
      statusText.textContent = text;
    }, 50);
  }

  function showError(message) {
    errorText.textContent = message || 'Something went wrong. Please try again.';
  }

  async function call(method, url, body) {
    errorText.textContent = '';
    const options = {
      method: method,
      credentials: 'same-origin',
      headers: { 'Accept': 'application/json', 'X-CSRF-Token': csrfToken },
    };
    if (body !== undefined) {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    const data = await response.json().catch(function () { return null; });
    if (!response.ok) {
      throw new Error(data && data.error ? data.error.message : 'The request failed.');
    }
    return data;
  }

  function showProgress(plan) {
    const progress = plan.progress;
    document.getElementById('progress-done').textContent = String(progress.done);
    document.getElementById('progress-total').textContent = String(progress.total);
    const bar = document.getElementById('progress-bar');
    bar.max = progress.total;
    bar.value = progress.done;
    const next = progress.next_step;
    document.getElementById('next-step').textContent = next
      ? 'Next: ' + next.title + (next.due ? ' (due ' + next.due + ')' : '')
      : 'Every step is done.';
  }

  function stepId(element) {
    return element.closest('[data-step-id]').dataset.stepId;
  }

  root.addEventListener('change', async function (event) {
    const box = event.target;
    if (!box.classList || !box.classList.contains('step-done')) {
      return;
    }
    const item = box.closest('.step');
    box.disabled = true;
    try {
      const plan = await call('PATCH', planUrl + '/steps/' + stepId(box), { done: box.checked });
      item.classList.toggle('done', box.checked);
      showProgress(plan);
      if (box.checked) {
        const all = plan.progress.done === plan.progress.total;
        announce(all ? 'Every step is done. That deserves a celebration!' : CHEERS[cheer++ % CHEERS.length]);
      } else {
        announce('Step marked as not done.');
      }
    } catch (error) {
      box.checked = !box.checked;
      showError(error.message);
    } finally {
      box.disabled = false;
    }
  });

  async function thenReload(promise) {
    try {
      await promise;
      window.location.reload();
    } catch (error) {
      showError(error.message);
    }
  }

  root.addEventListener('click', function (event) {
    const button = event.target.closest('button');
    if (!button) {
      return;
    }
    if (button.classList.contains('edit-step')) {
      const form = button.closest('.step').querySelector('.step-edit');
      form.hidden = !form.hidden;
      if (!form.hidden) {
        form.querySelector('input').focus();
      }
    } else if (button.classList.contains('edit-goal')) {
      const form = button.closest('.plan-goal').querySelector('.goal-edit');
      form.hidden = !form.hidden;
      if (!form.hidden) {
        form.querySelector('input').focus();
      }
    } else if (button.classList.contains('delete-step')) {
      thenReload(call('DELETE', planUrl + '/steps/' + stepId(button)));
    } else if (button.id === 'copy-plan') {
      copyPlan();
    } else if (button.id === 'print-plan') {
      window.print();
    }
  });

  root.addEventListener('submit', function (event) {
    const form = event.target;
    if (form.classList.contains('make-plan-form')) {
      return; // an ordinary form post: the server makes the plan and shows it
    }
    event.preventDefault();
    const fields = new FormData(form);
    const due = fields.get('due');
    if (form.classList.contains('step-edit')) {
      thenReload(call('PATCH', planUrl + '/steps/' + stepId(form), {
        title: fields.get('title'), due: due ? due : null,
      }));
    } else if (form.classList.contains('step-add')) {
      thenReload(call('POST', planUrl + '/goals/' + form.dataset.goalId + '/steps', {
        title: fields.get('title'), due: due ? due : null,
      }));
    } else if (form.classList.contains('goal-edit')) {
      thenReload(call('PATCH', planUrl + '/goals/' + form.dataset.goalId, {
        title: fields.get('title'),
      }));
    } else if (form.id === 'journal-form') {
      thenReload(call('POST', planUrl + '/journal', {
        kind: fields.get('kind'), body: fields.get('body'),
      }));
    }
  });

  async function copyPlan() {
    try {
      const version = new URLSearchParams(window.location.search).get('version');
      const url = sessionUrl + '/plan.md' + (version ? '?version=' + encodeURIComponent(version) : '');
      const response = await fetch(url, { credentials: 'same-origin' });
      if (!response.ok) {
        throw new Error('The plan could not be read.');
      }
      const text = await response.text();
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
      } else {
        copyByHand(text);
      }
      announce('Your plan is copied: paste it wherever you keep notes.');
    } catch (error) {
      showError('Copying did not work here; use the Markdown download instead.');
    }
  }

  function copyByHand(text) {
    // Where the clipboard API is not offered (plain http), the older way.
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'visually-hidden';
    document.body.appendChild(area);
    area.select();
    const copied = document.execCommand('copy');
    area.remove();
    if (!copied) {
      throw new Error('copy refused');
    }
  }
})();
