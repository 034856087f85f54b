/* The chat page: sends messages to the JSON API, reads the streamed reply
 * (server-sent events over fetch), and keeps the step progress bar in sync.
 *
 * The server decides what the page shows, so that this script and the page
 * never disagree: a stored message is shown as the markup the server sends with
 * it ("html", from the same template as the page); the bubbles shown before a
 * message is stored are clones of the page's <template> elements; whether a
 * retry is offered is the session's "retry_offered"; whether a refused message
 * was stored is the error's "user_message".
 * Model text is untrusted: while streaming it only ever goes in as text; the
 * server's markup escapes the seeker's text and sanitises the model's. */
'use strict';

(function () {
  const root = document.getElementById('chat');
  if (!root) {
    return;
  }

  const sessionId = root.dataset.sessionId;
  const apiBase = root.dataset.apiBase || '/api/v1';
  const sessionUrl = apiBase + '/sessions/' + encodeURIComponent(sessionId);
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrfToken = csrfMeta ? csrfMeta.content : '';

  const transcript = document.getElementById('transcript');
  const composer = document.getElementById('composer');
  const input = document.getElementById('message-input');
  const sendButton = document.getElementById('send-button');
  const retryButton = document.getElementById('retry-button');
  const stopButton = document.getElementById('stop-button');
  const deleteButton = document.getElementById('delete-button');
  const errorText = document.getElementById('error-text');
  const statusText = document.getElementById('status-text');
  const progress = document.getElementById('stage-progress');
  const stageSummary = document.getElementById('stage-summary');
  const stageForm = document.getElementById('stage-form');
  const stageSelect = document.getElementById('stage-select');
  const stageGo = document.getElementById('stage-go');

  let busy = false;
  // While a reply streams in: whether it may still be stopped (Stop or Escape).
  let stoppable = false;

  /* ---------- small DOM helpers ---------- */

  function announce(text) {
    // Clearing first makes screen readers repeat an identical message.
    statusText.textContent = '';
    window.setTimeout(function () {
      statusText.textContent = text;
    }, 50);
  }

  function showError(message) {
    errorText.textContent = message || 'Something went wrong. Please try again.';
  }

  function clearError() {
    errorText.textContent = '';
  }

  function setRetryVisible(visible) {
    retryButton.hidden = !visible;
  }

  function setBusy(value) {
    busy = value;
    sendButton.disabled = value;
    retryButton.disabled = value;
    transcript.setAttribute('aria-busy', value ? 'true' : 'false');
    setRecordBusy(value); // the record panel waits for the reply too
    refreshChoices();
  }

  function isNearBottom() {
    const doc = document.documentElement;
    return doc.scrollHeight - (window.scrollY + window.innerHeight) < 160;
  }

  function scrollToBottom() {
    window.scrollTo(0, document.documentElement.scrollHeight);
  }

  // Grow the message box with its text, up to the CSS max-height.
  function fitInput() {
    input.style.height = 'auto';
    input.style.height = input.scrollHeight + 2 + 'px';
  }

  function removeEmptyHint() {
    const hint = document.getElementById('transcript-empty');
    if (hint) {
      hint.remove();
    }
  }

  function insertMessage(article) {
    removeEmptyHint();
    transcript.append(article);
    refreshChoices();
    return article;
  }

  // Only the quick replies under the last message answer the conversation as it
  // stands; older ones stay visible but inactive.
  function refreshChoices() {
    const articles = transcript.querySelectorAll('article.message');
    const last = articles[articles.length - 1];
    transcript.querySelectorAll('.choice-button').forEach(function (button) {
      button.disabled = busy || button.closest('article.message') !== last;
    });
  }

  // A bubble for a message the server has not stored yet, from the page's own
  // template, so that it has the markup of a stored one.
  function bubbleFromTemplate(role) {
    const template = document.getElementById('template-' + role);
    return template.content.firstElementChild.cloneNode(true);
  }

  // A stored message as the server renders it. Parsed in an inert <template>:
  // the markup is the server's, with the seeker's text escaped and the model's
  // sanitised.
  function articleFromServer(message) {
    const holder = document.createElement('template');
    holder.innerHTML = message.html;
    return holder.content.firstElementChild;
  }

  // Puts the server's version of a message in place of a bubble (or at the end).
  function showStored(bubble, message) {
    const article = articleFromServer(message);
    if (bubble && bubble.isConnected) {
      bubble.replaceWith(article);
      refreshChoices();
    } else {
      insertMessage(article);
    }
    return article;
  }

  function shownMessage(id) {
    return transcript.querySelector('article.message[data-message-id="' + CSS.escape(String(id)) + '"]');
  }

  function appendUserMessage(content) {
    const article = insertMessage(bubbleFromTemplate('user'));
    article.querySelector('.message-body').textContent = content;
    return article;
  }

  /* ---------- the plan ---------- */

  const seePlan = document.getElementById('see-plan');
  const makePlan = document.getElementById('make-plan');

  // A reply that wrote the plan links to the plan's page (in the server's markup);
  // the plan form beside the chat then offers to see it and to make a new one.
  function notePlan(article) {
    const link = article && article.querySelector('.message-body a[href*="/plan?version="]');
    if (!link) {
      return;
    }
    if (seePlan) {
      seePlan.hidden = false;
    }
    if (makePlan) {
      makePlan.textContent = 'Make a new plan';
    }
  }

  /* ---------- stages ---------- */

  function updateStage(key) {
    if (!key || !progress) {
      return;
    }
    const items = Array.from(progress.querySelectorAll('li[data-stage]'));
    const index = items.findIndex(function (li) {
      return li.dataset.stage === key;
    });
    if (index === -1) {
      return;
    }
    items.forEach(function (li, i) {
      const state = li.querySelector('.stage-state');
      li.classList.toggle('current', i === index);
      li.classList.toggle('done', i < index);
      if (i === index) {
        li.setAttribute('aria-current', 'step');
      } else {
        li.removeAttribute('aria-current');
      }
      if (state) {
        state.textContent = i < index ? '(done)' : '';
      }
    });
    if (stageSummary) {
      stageSummary.textContent = items[index].dataset.summary || '';
    }
    if (stageSelect) {
      stageSelect.value = key;
    }
  }

  function stageTitle(key) {
    const li = progress && progress.querySelector('li[data-stage="' + CSS.escape(key) + '"]');
    const title = li && li.querySelector('.stage-title');
    return title ? title.textContent.trim() : key;
  }

  /* ---------- HTTP ---------- */

  const STREAM = 'text/event-stream';
  const JSON_TYPE = 'application/json';

  // Every unsafe request carries the page's CSRF token; the cookie authenticates it.
  function send(method, url, body, accept) {
    return fetch(url, {
      method: method,
      credentials: 'same-origin',
      headers: { 'Content-Type': JSON_TYPE, Accept: accept, 'X-CSRF-Token': csrfToken },
      body: body === null ? undefined : JSON.stringify(body),
    });
  }

  // What a failed response says: its message, and its body when it is the API's
  // JSON error (null for anything else, a proxy's error page say).
  async function readFailure(response) {
    let body = null;
    try {
      body = await response.json();
    } catch (ignored) {
      // Not JSON: fall through to a generic message.
    }
    if (!body || !body.error) {
      body = null;
    }
    let message = body && body.error.message;
    if (!message && response.status === 429) {
      message = 'You are sending messages too quickly. Please wait a moment.';
    }
    return {
      message: message || 'The coach could not answer (error ' + response.status + '). Please try again.',
      body: body,
    };
  }

  // When the response cannot say whether the message was stored (there was none,
  // or it was not the API's), ask for the transcript: stored is the last message
  // of the seeker if it has this text and the page does not show it yet.
  function findStoredMessage(data, content) {
    const messages = (data && data.messages) || [];
    for (let i = messages.length - 1; i >= 0; i -= 1) {
      if (messages[i].role === 'user') {
        const stored = messages[i].content.trim() === content && !shownMessage(messages[i].id);
        return stored ? messages[i] : null;
      }
    }
    return null; // unknown: treat as not stored, so the text is not lost
  }

  // The session as the server has it, or null when it cannot be read right now.
  async function loadSession() {
    try {
      const response = await fetch(sessionUrl, {
        credentials: 'same-origin',
        headers: { Accept: 'application/json' },
      });
      return response.ok ? await response.json() : null;
    } catch (ignored) {
      return null;
    }
  }

  /* ---------- server-sent events ---------- */

  function parseEvent(block) {
    let name = 'message';
    const data = [];
    block.split('\n').forEach(function (line) {
      if (line === '' || line.charAt(0) === ':') {
        return;
      }
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.charAt(0) === ' ') {
        value = value.slice(1);
      }
      if (field === 'event') {
        name = value;
      } else if (field === 'data') {
        data.push(value);
      }
    });
    if (data.length === 0) {
      return null;
    }
    try {
      return { name: name, data: JSON.parse(data.join('\n')) };
    } catch (ignored) {
      return null;
    }
  }

  // Hands each event to onEvent until the stream ends, or until onEvent answers
  // true (the reply is whole): then the rest is not waited for, so that the seeker
  // can send again at once.
  async function readEvents(response, onEvent) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) {
        break;
      }
      // A lone \r at the end may be the first half of \r\n: keep it for now.
      buffer = (buffer + decoder.decode(chunk.value, { stream: true })).replace(/\r\n|\r(?!$)/g, '\n');
      let end = buffer.indexOf('\n\n');
      while (end !== -1) {
        const event = parseEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (event && onEvent(event)) {
          reader.cancel().catch(function () {});
          return;
        }
        end = buffer.indexOf('\n\n');
      }
    }
    buffer = (buffer + decoder.decode()).replace(/\r\n?/g, '\n');
    const last = parseEvent(buffer);
    if (last) {
      onEvent(last);
    }
  }

  /* Reads one reply stream into a new assistant bubble, which becomes the
   * server's stored reply at the end. Resolves once the stream ends, whichever
   * way it ends. */
  async function streamReply(response, userArticle) {
    const article = insertMessage(bubbleFromTemplate('assistant'));
    const body = article.querySelector('.message-body');
    const text = document.createTextNode('');
    body.append(text);
    const state = { ended: false, userStored: false };

    function onEvent(event) {
      const data = event.data || {};
      const follow = isNearBottom();
      if (event.name === 'message' && data.message) {
        state.userStored = true;
        const target = userArticle || shownMessage(data.message.id);
        showStored(target, data.message);
        if (!target) {
          transcript.append(article); // the reply stays after the message it answers
        }
        updateStage(data.message.stage);
      } else if (event.name === 'delta' && typeof data.text === 'string') {
        text.appendData(data.text);
      } else if (event.name === 'done' && data.reply) {
        state.ended = true;
        notePlan(showStored(article, data.reply));
        updateStage(data.reply.stage);
        announce('The coach has replied.');
      } else if (event.name === 'error') {
        state.ended = true;
        if (data.reply) {
          showStored(article, data.reply);
        } else {
          article.remove(); // nothing was kept of this reply
        }
        const message = data.error && data.error.message;
        if (data.error && data.error.code === 'cancelled') {
          announce('You stopped the reply. What the coach wrote so far is kept.');
        }
        showError(message || 'The reply broke off.');
        // The server's word on this failure: whether trying again can help.
        setRetryVisible(Boolean(data.retryable));
      }
      if (follow) {
        scrollToBottom();
      }
      return state.ended;
    }

    setStoppable(true);
    try {
      await readEvents(response, onEvent);
    } catch (ignored) {
      // The connection dropped: handled below like a stream that just ends.
    } finally {
      setStoppable(false);
    }
    if (!state.ended) {
      body.classList.remove('is-streaming');
      showError('The connection was lost before the reply finished.');
    }
    if (!state.ended || !state.userStored) {
      // The page is missing what the server stored: show that, and its retry flag.
      catchUp(false);
    }
    refreshRecord(); // the record panel: what this turn added
  }

  /* ---------- stopping a reply ---------- */

  function setStoppable(value) {
    stoppable = value;
    stopButton.hidden = !value;
    stopButton.disabled = false;
  }

  // Asks the server to stop the reply; the stream then ends with what was written,
  // kept as partial, and the seeker may try again. A reply that finished meanwhile
  // has nothing to stop (409): the stream shows it whole.
  async function stopReply() {
    if (!stoppable || stopButton.disabled) {
      return;
    }
    stopButton.disabled = true;
    announce('Stopping the reply.');
    try {
      const response = await send('POST', sessionUrl + '/cancel', {}, JSON_TYPE);
      if (!response.ok && response.status !== 409) {
        showError((await readFailure(response)).message);
        stopButton.disabled = false;
      }
    } catch (ignored) {
      showError('Could not reach the coach to stop the reply. Check your connection.');
      stopButton.disabled = false;
    }
  }

  /* ---------- actions ---------- */

  async function sendMessage(content) {
    setBusy(true);
    clearError();
    // A message the server turns away leaves the earlier reply retryable.
    const couldRetry = !retryButton.hidden;
    setRetryVisible(false);
    const userArticle = appendUserMessage(content);
    input.value = '';
    fitInput();
    scrollToBottom();
    announce('Message sent. The coach is replying.');

    let response;
    try {
      response = await send('POST', sessionUrl + '/messages', { content: content }, STREAM);
    } catch (ignored) {
      await askWhetherStored(content, userArticle, couldRetry,
        'Could not reach the coach. Check your connection and try again.');
      return;
    }

    if (!response.ok) {
      const failure = await readFailure(response);
      if (!failure.body) {
        await askWhetherStored(content, userArticle, couldRetry, failure.message);
      } else if (failure.body.user_message) {
        // Stored, then the reply failed: the server's state decides what follows.
        showError(failure.message);
        showStored(userArticle, failure.body.user_message);
        catchUp(false);
      } else {
        showError(failure.message);
        notStored(content, userArticle, couldRetry);
        if (response.status === 409) {
          catchUp(true); // another tab or window is being answered
        }
      }
      return;
    }

    await streamReply(response, userArticle);
  }

  async function askWhetherStored(content, userArticle, couldRetry, message) {
    showError(message);
    const stored = findStoredMessage(await loadSession(), content);
    if (stored) {
      showStored(userArticle, stored);
      catchUp(false);
    } else {
      notStored(content, userArticle, couldRetry);
    }
  }

  function notStored(content, userArticle, couldRetry) {
    userArticle.remove();
    restoreInput(content);
    setRetryVisible(couldRetry);
  }

  function restoreInput(content) {
    // Do not overwrite anything typed since.
    if (input.value.trim() === '') {
      input.value = content;
      fitInput();
    }
  }

  async function retry() {
    setBusy(true);
    clearError();
    setRetryVisible(false);
    announce('Trying again. The coach is replying.');
    let response;
    try {
      response = await send('POST', sessionUrl + '/retry', {}, STREAM);
    } catch (ignored) {
      showError('Could not reach the coach. Check your connection and try again.');
      setRetryVisible(true);
      return;
    }
    if (!response.ok) {
      showError((await readFailure(response)).message);
      // Still offered until the server says otherwise (it may be answering in
      // another tab, or have answered already).
      setRetryVisible(true);
      catchUp(response.status === 409);
      return;
    }
    scrollToBottom();
    await streamReply(response, null);
  }

  async function changeStage(key) {
    stageGo.disabled = true;
    clearError();
    try {
      const response = await send('PATCH', sessionUrl, { stage: key }, JSON_TYPE);
      if (!response.ok) {
        showError((await readFailure(response)).message);
        return;
      }
      const data = await response.json();
      updateStage(data.stage);
      announce('Moved to step: ' + stageTitle(data.stage) + '.');
    } catch (ignored) {
      showError('Could not change the step. Check your connection and try again.');
    } finally {
      stageGo.disabled = false;
    }
  }

  /* ---------- wiring ---------- */

  composer.addEventListener('submit', function (event) {
    event.preventDefault();
    if (busy) {
      return;
    }
    const content = input.value.trim();
    if (content === '') {
      input.focus();
      return;
    }
    input.focus();
    sendMessage(content).finally(function () {
      setBusy(false);
    });
  });

  input.addEventListener('keydown', function (event) {
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing) {
      return;
    }
    event.preventDefault();
    if (!busy) {
      composer.requestSubmit();
    }
  });

  input.addEventListener('input', fitInput);

  // A quick reply is sent as the seeker's own message, exactly like typed text.
  transcript.addEventListener('click', function (event) {
    const button = event.target.closest('.choice-button');
    if (!button || button.disabled || busy) {
      return;
    }
    input.focus();
    sendMessage(button.dataset.choice).finally(function () {
      setBusy(false);
    });
  });

  stopButton.addEventListener('click', function () {
    input.focus();
    stopReply();
  });

  // Escape stops a reply from anywhere on the page, except where Escape already
  // means something (closing an edit of the record).
  document.addEventListener('keydown', function (event) {
    if (event.key === 'Escape' && stoppable && !event.defaultPrevented) {
      event.preventDefault();
      stopReply();
    }
  });

  retryButton.addEventListener('click', function () {
    if (busy) {
      return;
    }
    input.focus();
    retry().finally(function () {
      setBusy(false);
    });
  });

  stageForm.addEventListener('submit', function (event) {
    event.preventDefault();
    changeStage(stageSelect.value);
  });

  deleteButton.addEventListener('click', function () {
    if (busy || !window.confirm('Delete this conversation and everything in it? This cannot be undone.')) {
      return;
    }
    deleteConversation();
  });

  async function deleteConversation() {
    setBusy(true);
    clearError();
    try {
      const response = await send('DELETE', sessionUrl, null, JSON_TYPE);
      if (response.status === 204) {
        window.location.assign(deleteButton.dataset.afterDelete);
        return;
      }
      showError((await readFailure(response)).message);
    } catch (ignored) {
      showError('Could not reach the coach. Check your connection and try again.');
    }
    setBusy(false);
  }

  /* ================================================================
   * The record panel: "What we have found so far"
   *
   * The reflection record as the seeker sees and corrects it. The page renders
   * it; after every reply it is filled again from the session's "reflection",
   * each entry cloned from the page's <template> (the server's one markup for an
   * entry) and filled with text only: every text in it is the seeker's or the
   * model's, so none of it ever becomes markup. An entry is edited in place
   * (Save, Cancel, Escape) or removed; each correction is a PATCH of
   * .../reflection with the text the seeker saw, so that a record changed
   * meanwhile is refused rather than corrected in the wrong place.
   * Hooks elsewhere in this file: setBusy (buttons wait for the reply),
   * streamReply and reconcile (the panel follows each reply).
   * ================================================================ */

  const recordPanel = document.getElementById('record-panel');
  const recordEmpty = document.getElementById('record-empty');
  const recordError = document.getElementById('record-error');
  const recordUrl = sessionUrl + '/reflection';
  let recordEditing = null; // the entry being edited: { entry, form }
  let recordPending = null; // a newer record, shown once the edit is closed

  function recordGroupOf(entry) {
    return entry.closest('.record-group');
  }

  // What the seeker saw of an entry: its text (a likely cause's evidence), and
  // the name its buttons use (a likely cause's label).
  function recordEntryText(entry) {
    return entry.querySelector('.record-evidence').textContent;
  }

  function recordEntryName(entry) {
    const cause = entry.querySelector('.record-cause');
    return cause ? cause.textContent : recordEntryText(entry);
  }

  function buildRecordEntry(group, item, index) {
    const isCause = group.dataset.field === 'likely_causes';
    const template = document.getElementById(isCause ? 'template-record-cause' : 'template-record-entry');
    const entry = template.content.firstElementChild.cloneNode(true);
    const noun = group.dataset.noun;
    const text = isCause ? item.evidence : item;
    const name = isCause ? item.label : item;
    entry.dataset.index = String(index);
    entry.querySelector('.record-evidence').textContent = text;
    if (isCause) {
      entry.querySelector('.record-cause').textContent = item.label;
    }
    entry.querySelector('[data-action="edit"]').setAttribute('aria-label', 'Edit ' + noun + ': ' + name);
    entry.querySelector('[data-action="remove"]').setAttribute('aria-label', 'Remove ' + noun + ': ' + name);
    entry.querySelectorAll('.record-actions button').forEach(function (button) {
      button.disabled = busy;
    });
    return entry;
  }

  function renderRecord(reflection) {
    if (!recordPanel || !reflection) {
      return;
    }
    if (recordEditing) {
      recordPending = reflection; // the seeker's edit is not thrown away
      return;
    }
    recordPending = null;
    let any = Boolean(reflection.cause_unknown);
    recordPanel.querySelectorAll('.record-group').forEach(function (group) {
      const items = reflection[group.dataset.field] || [];
      const list = group.querySelector('.record-list');
      list.replaceChildren.apply(list, items.map(function (item, index) {
        return buildRecordEntry(group, item, index);
      }));
      const note = group.querySelector('.record-note');
      const unknown = Boolean(note) && Boolean(reflection.cause_unknown);
      if (note) {
        note.hidden = !unknown;
      }
      group.hidden = items.length === 0 && !unknown;
      any = any || items.length > 0;
    });
    recordEmpty.hidden = any;
  }

  // Called after every reply, however it ended: the turn may have added to the record.
  async function refreshRecord() {
    if (!recordPanel) {
      return;
    }
    const data = await loadSession();
    if (data && data.reflection) {
      renderRecord(data.reflection);
    }
  }

  function setRecordBusy(value) {
    if (recordPanel) {
      // Edit and Remove only: an edit already open can still be cancelled.
      recordPanel.querySelectorAll('.record-actions button').forEach(function (button) {
        button.disabled = value;
      });
    }
  }

  // The entry's button after the record was shown again, or the panel's heading
  // when the entry (or its whole group) is gone.
  function focusRecordEntry(field, index, action) {
    const group = recordPanel.querySelector('.record-group[data-field="' + CSS.escape(field) + '"]');
    const entries = group ? group.querySelectorAll('.record-entry') : [];
    const entry = entries[Math.min(index, entries.length - 1)];
    const target = entry ? entry.querySelector('[data-action="' + action + '"]') : null;
    (target || recordPanel.querySelector('summary')).focus();
  }

  // The record shown again under a click (a reply ended meanwhile): look again.
  function recordMovedOn(entry) {
    if (entry.isConnected) {
      return false;
    }
    recordError.textContent = 'The list has just been updated; look at it again.';
    recordPanel.querySelector('summary').focus();
    return true;
  }

  function openRecordEdit(entry) {
    closeRecordEdit(false);
    if (recordMovedOn(entry)) {
      return;
    }
    const group = recordGroupOf(entry);
    const isCause = group.dataset.field === 'likely_causes';
    const form = document.createElement('form');
    form.className = 'record-edit-form';
    const input = document.createElement('input');
    input.type = 'text';
    input.className = 'record-edit-input';
    input.id = 'record-edit-input';
    input.maxLength = Number(recordPanel.dataset.maxChars) || 240;
    input.value = recordEntryText(entry);
    input.autocomplete = 'off';
    const label = document.createElement('label');
    label.className = 'visually-hidden';
    label.htmlFor = input.id;
    label.textContent = isCause
      ? 'What points to ' + recordEntryName(entry)
      : 'Edit ' + group.dataset.noun + ': ' + recordEntryName(entry);
    const save = document.createElement('button');
    save.type = 'submit';
    save.className = 'button button-small button-primary';
    save.textContent = 'Save';
    const cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.className = 'button button-small';
    cancel.dataset.action = 'cancel';
    cancel.textContent = 'Cancel';
    form.append(label, input, save, cancel);
    entry.querySelector('.record-entry-text').hidden = true;
    entry.querySelector('.record-actions').hidden = true;
    entry.append(form);
    recordEditing = { entry: entry, form: form };
    input.focus();
    input.select();
  }

  // Puts the entry back as it was; `refocus` returns the keyboard to its Edit button.
  function closeRecordEdit(refocus) {
    if (!recordEditing) {
      return;
    }
    const entry = recordEditing.entry;
    recordEditing.form.remove();
    recordEditing = null;
    entry.querySelector('.record-entry-text').hidden = false;
    entry.querySelector('.record-actions').hidden = false;
    if (recordPending) {
      const group = recordGroupOf(entry);
      renderRecord(recordPending);
      if (refocus && group) {
        focusRecordEntry(group.dataset.field, Number(entry.dataset.index), 'edit');
      }
    } else if (refocus) {
      entry.querySelector('[data-action="edit"]').focus();
    }
  }

  // One correction: `value` the new text, or null to remove the entry.
  async function correctRecord(entry, value, after) {
    const field = recordGroupOf(entry).dataset.field;
    const index = Number(entry.dataset.index);
    const body = { field: field, index: index, value: value, was: recordEntryText(entry) };
    recordError.textContent = '';
    let response;
    try {
      response = await send('PATCH', recordUrl, body, JSON_TYPE);
    } catch (ignored) {
      recordError.textContent = 'Could not reach the coach. Check your connection and try again.';
      return false;
    }
    if (!response.ok) {
      const failure = await readFailure(response);
      recordError.textContent = failure.message;
      if (failure.body && failure.body.error.code === 'record_changed') {
        recordEditing = null;
        await refreshRecord(); // show what is there now
      }
      return false;
    }
    recordEditing = null;
    renderRecord(await response.json());
    focusRecordEntry(field, index, after);
    return true;
  }

  async function saveRecordEdit() {
    const editing = recordEditing;
    const input = editing.form.querySelector('input');
    const value = input.value.trim();
    if (value === '') {
      recordError.textContent = 'Write something, or use Remove to take the entry away.';
      input.focus();
      return;
    }
    if (value === recordEntryText(editing.entry)) {
      closeRecordEdit(true);
      return;
    }
    editing.form.querySelectorAll('button').forEach(function (button) {
      button.disabled = true;
    });
    if (await correctRecord(editing.entry, value, 'edit')) {
      announce('Saved.');
    } else if (recordEditing === editing) {
      editing.form.querySelectorAll('button').forEach(function (button) {
        button.disabled = false;
      });
      input.focus();
    }
  }

  async function removeRecordEntry(entry) {
    const group = recordGroupOf(entry);
    const what = group.dataset.noun + ': ' + recordEntryName(entry);
    const buttons = entry.querySelectorAll('.record-actions button');
    buttons.forEach(function (button) {
      button.disabled = true;
    });
    if (await correctRecord(entry, null, 'remove')) {
      announce('Removed ' + what + '.');
    } else if (entry.isConnected) {
      buttons.forEach(function (button) {
        button.disabled = busy;
      });
    }
  }

  if (recordPanel) {
    recordPanel.addEventListener('click', function (event) {
      const button = event.target.closest('button[data-action]');
      const entry = button && button.closest('.record-entry');
      if (!entry || button.disabled) {
        return;
      }
      if (button.dataset.action === 'edit') {
        openRecordEdit(entry);
      } else if (button.dataset.action === 'remove') {
        closeRecordEdit(false);
        if (!recordMovedOn(entry)) {
          removeRecordEntry(entry);
        }
      } else if (button.dataset.action === 'cancel') {
        recordError.textContent = '';
        closeRecordEdit(true);
      }
    });
    recordPanel.addEventListener('submit', function (event) {
      event.preventDefault();
      if (recordEditing && recordEditing.form === event.target) {
        saveRecordEdit();
      }
    });
    recordPanel.addEventListener('keydown', function (event) {
      if (event.key === 'Escape' && recordEditing && recordEditing.form.contains(event.target)) {
        event.preventDefault();
        recordError.textContent = '';
        closeRecordEdit(true);
      }
    });
  }

  /* ================ end of the record panel ================ */

  /* ---------- earlier messages ---------- */

  // A long conversation opens at its newest messages. The button loads the page
  // before the first message shown and puts it above, keeping in view what the
  // seeker was reading; it hides itself when the conversation's start is shown.
  const earlierButton = document.getElementById('earlier-button');
  const EARLIER_FAILED = 'The earlier messages could not be loaded. Please try again.';

  async function showEarlier() {
    const first = transcript.querySelector('article.message[data-message-id]');
    if (!first) {
      earlierButton.hidden = true;
      return;
    }
    earlierButton.disabled = true;
    clearError();
    try {
      const url = sessionUrl + '?before=' + encodeURIComponent(first.dataset.messageId);
      const response = await fetch(url, {
        credentials: 'same-origin',
        headers: { Accept: JSON_TYPE },
      });
      if (!response.ok) {
        showError(EARLIER_FAILED);
        return;
      }
      const data = await response.json();
      const articles = data.messages.filter(function (message) {
        return !shownMessage(message.id);
      }).map(articleFromServer);
      const heightBefore = document.documentElement.scrollHeight;
      first.before.apply(first, articles);
      window.scrollBy(0, document.documentElement.scrollHeight - heightBefore);
      refreshChoices();
      earlierButton.hidden = !data.has_earlier;
      if (earlierButton.hidden) {
        root.focus({ preventScroll: true }); // the focused button is gone
      }
      announce(articles.length === 1 ? '1 earlier message shown.' : articles.length + ' earlier messages shown.');
    } catch (ignored) {
      showError(EARLIER_FAILED);
    } finally {
      earlierButton.disabled = false;
    }
  }

  if (earlierButton) {
    earlierButton.addEventListener('click', function () {
      if (!earlierButton.disabled) {
        showEarlier();
      }
    });
  }

  /* ---------- catching up with the server ---------- */

  const POLL_MS = 2000;
  const POLL_LIMIT = 150; // about five minutes, as long as the server keeps a reply mark
  let catchingUp = false;

  // The page becomes what the server has stored: bubbles it never stored (a reply
  // cut off before it was saved) give way to its messages, and it says whether a
  // retry is offered. Answers how many messages were added.
  function reconcile(data) {
    transcript.querySelectorAll('article.message:not([data-message-id])').forEach(function (bubble) {
      bubble.remove();
    });
    let added = 0;
    data.messages.forEach(function (message) {
      if (!shownMessage(message.id)) {
        notePlan(insertMessage(articleFromServer(message)));
        added += 1;
      }
    });
    updateStage(data.stage);
    setRetryVisible(Boolean(data.retry_offered));
    renderRecord(data.reflection); // the record panel
    return added;
  }

  // Waits until no reply is being written (in this page's stream that broke off,
  // or in another tab or window), then shows what this page has not seen yet.
  async function catchUp(clearErrorWhenDone) {
    if (catchingUp) {
      return;
    }
    catchingUp = true;
    try {
      for (let attempt = 0; attempt < POLL_LIMIT; attempt += 1) {
        const data = await loadSession(); // null while offline: keep waiting
        // Not while this page is sending: its own bubbles are not stored yet.
        if (data && !busy) {
          setRetryVisible(Boolean(data.retry_offered));
          if (!data.replying) {
            if (reconcile(data) > 0) {
              announce('The conversation is up to date.');
              scrollToBottom();
            }
            if (clearErrorWhenDone) {
              clearError();
            }
            return;
          }
        }
        await new Promise(function (resolve) { window.setTimeout(resolve, POLL_MS); });
      }
    } finally {
      catchingUp = false;
    }
  }

  if (root.dataset.replying === 'true') {
    // Reloading mid-reply ends that reply (kept as partial, with retry offered); another
    // tab may also be waiting for one. Either way this page shows what the server keeps.
    showError('A reply was still being written when this page loaded. It will appear here when it is ready.');
    catchUp(true);
  }

  if (transcript.querySelector('.message')) {
    scrollToBottom();
  }
  refreshChoices();
})();
