/* The chat page: sends messages to the JSON API, reads the streamed reply
 * (server-sent events over fetch), and keeps the step progress bar in sync.
 * Model text is untrusted: while streaming it only ever goes in as text; the
 * final reply is swapped for the server's sanitised HTML. */
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
  const deleteButton = document.getElementById('delete-button');
  const errorText = document.getElementById('error-text');
  const statusText = document.getElementById('status-text');
  const progress = document.getElementById('stage-progress');
  const stageSummary = document.getElementById('stage-summary');
  const stageForm = document.getElementById('stage-form');
  const stageSelect = document.getElementById('stage-select');
  const stageGo = document.getElementById('stage-go');

  // Statuses for which the server rejected the message before storing it.
  const NOT_STORED = [400, 401, 403, 404, 409, 413, 415, 422, 429];
  const NOTES = {
    partial: 'This reply was interrupted.',
    failed: 'This reply failed.',
  };

  let busy = false;

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

  function createMessage(role) {
    removeEmptyHint();
    const article = document.createElement('article');
    article.className = 'message message-' + role;
    const author = document.createElement('h3');
    author.className = 'message-author';
    author.textContent = role === 'user' ? 'You' : 'The coach';
    const body = document.createElement('div');
    body.className = 'message-body';
    article.append(author, body);
    transcript.append(article);
    return article;
  }

  function appendUserMessage(content) {
    const article = createMessage('user');
    article.dataset.status = 'sending';
    const body = article.querySelector('.message-body');
    body.classList.add('message-text');
    body.textContent = content;
    return article;
  }

  function setNote(article, status) {
    let note = article.querySelector('.message-note');
    const text = NOTES[status];
    if (!text) {
      if (note) {
        note.remove();
      }
      return;
    }
    if (!note) {
      note = document.createElement('p');
      note.className = 'message-note';
      article.append(note);
    }
    note.textContent = text;
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

  async function errorFromResponse(response) {
    try {
      const data = await response.json();
      if (data && data.error && data.error.message) {
        return data.error.message;
      }
    } catch (ignored) {
      // Not JSON (a proxy page, say): fall through to a generic message.
    }
    if (response.status === 429) {
      return 'You are sending messages too quickly. Please wait a moment.';
    }
    return 'The coach could not answer (error ' + response.status + '). Please try again.';
  }

  // After a server error or a dropped connection we cannot tell from the
  // response whether the message was stored, so ask for the transcript.
  async function findStoredMessage(content) {
    const data = await loadSession();
    const messages = (data && data.messages) || [];
    for (let i = messages.length - 1; i >= 0; i -= 1) {
      if (messages[i].role === 'user') {
        return messages[i].content.trim() === content ? messages[i] : null;
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
        if (event) {
          onEvent(event);
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

  /* Reads one reply stream into a new assistant bubble. Resolves with
   * {finished, storedUser} once the stream ends, whichever way it ends. */
  async function streamReply(response, userArticle) {
    const article = createMessage('assistant');
    article.dataset.status = 'streaming';
    const body = article.querySelector('.message-body');
    body.classList.add('message-text', 'is-streaming');
    const text = document.createTextNode('');
    body.append(text);
    const state = { finished: false, storedUser: null };

    function onEvent(event) {
      const data = event.data || {};
      const follow = isNearBottom();
      if (event.name === 'message' && data.message) {
        state.storedUser = data.message;
        const target = userArticle ||
          transcript.querySelector('.message-user[data-message-id="' + CSS.escape(String(data.message.id)) + '"]');
        if (target) {
          target.dataset.messageId = data.message.id;
          target.dataset.status = data.message.status || 'complete';
        }
        updateStage(data.message.stage);
      } else if (event.name === 'delta' && typeof data.text === 'string') {
        text.appendData(data.text);
      } else if (event.name === 'done' && data.reply) {
        state.finished = true;
        body.classList.remove('message-text', 'is-streaming');
        body.innerHTML = data.reply.content_html || '';
        article.dataset.messageId = data.reply.id;
        article.dataset.status = data.reply.status || 'complete';
        setNote(article, data.reply.status);
        updateStage(data.reply.stage);
        announce('The coach has replied.');
      } else if (event.name === 'error') {
        state.finished = true;
        const reply = data.reply;
        const status = reply && reply.status ? reply.status : (text.data ? 'partial' : 'failed');
        body.classList.remove('is-streaming');
        if (reply && reply.id !== undefined) {
          article.dataset.messageId = reply.id;
        }
        article.dataset.status = status;
        setNote(article, status);
        if (!text.data) {
          body.remove();
        }
        const message = data.error && data.error.message;
        showError(message || 'The reply broke off.');
        setRetryVisible(Boolean(data.retryable));
      }
      if (follow) {
        scrollToBottom();
      }
    }

    try {
      await readEvents(response, onEvent);
    } catch (ignored) {
      // The connection dropped: handled below like a stream that just ends.
    }
    if (!state.finished) {
      body.classList.remove('is-streaming');
      const status = text.data ? 'partial' : 'failed';
      article.dataset.status = status;
      setNote(article, status);
      if (!text.data) {
        body.remove();
      }
      showError('The connection was lost before the reply finished.');
      setRetryVisible(true);
    }
    return state;
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
      await handleUnsent(content, userArticle, couldRetry,
        'Could not reach the coach. Check your connection and try again.');
      return;
    }

    if (!response.ok) {
      const message = await errorFromResponse(response);
      if (NOT_STORED.indexOf(response.status) !== -1) {
        userArticle.remove();
        restoreInput(content);
        setRetryVisible(couldRetry);
        showError(message);
        if (response.status === 409) {
          catchUp();
        }
      } else {
        await handleUnsent(content, userArticle, couldRetry, message);
      }
      return;
    }

    userArticle.dataset.status = 'complete';
    await streamReply(response, userArticle);
  }

  async function handleUnsent(content, userArticle, couldRetry, message) {
    const stored = await findStoredMessage(content);
    if (stored) {
      userArticle.dataset.messageId = stored.id;
      userArticle.dataset.status = stored.status || 'complete';
      setRetryVisible(true);
    } else {
      userArticle.remove();
      restoreInput(content);
      setRetryVisible(couldRetry);
    }
    showError(message);
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
      showError(await errorFromResponse(response));
      setRetryVisible(response.status >= 500 || response.status === 429);
      if (response.status === 409) {
        catchUp();
      }
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
        showError(await errorFromResponse(response));
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
      showError(await errorFromResponse(response));
    } catch (ignored) {
      showError('Could not reach the coach. Check your connection and try again.');
    }
    setBusy(false);
  }

  /* ---------- another window answering ---------- */

  const POLL_MS = 2000;
  const POLL_LIMIT = 150; // about five minutes, as long as the server keeps a reply mark
  let catchingUp = false;

  function renderStoredMessage(message) {
    const article = createMessage(message.role);
    article.dataset.messageId = message.id;
    article.dataset.status = message.status;
    const body = article.querySelector('.message-body');
    if (message.role === 'assistant') {
      body.innerHTML = message.content_html; // sanitised by the server
    } else {
      body.classList.add('message-text');
      body.textContent = message.content;
    }
    setNote(article, message.status);
  }

  // The coach is answering in another tab or window (a 409 told us so): wait for
  // that reply to be stored, then show what this page has not seen yet.
  async function catchUp() {
    if (catchingUp) {
      return;
    }
    catchingUp = true;
    setRetryVisible(false);
    for (let attempt = 0; attempt < POLL_LIMIT; attempt += 1) {
      const data = await loadSession(); // null while offline: keep waiting
      if (data && !data.replying) {
        const shown = new Set(Array.from(transcript.querySelectorAll('[data-message-id]'))
          .map(function (article) { return article.dataset.messageId; }));
        data.messages.forEach(function (message) {
          if (!shown.has(String(message.id))) {
            renderStoredMessage(message);
          }
        });
        updateStage(data.stage);
        const last = data.messages[data.messages.length - 1];
        setRetryVisible(Boolean(last) && (last.role === 'user' || last.status !== 'complete'));
        clearError();
        announce('The conversation is up to date.');
        scrollToBottom();
        catchingUp = false;
        return;
      }
      await new Promise(function (resolve) { window.setTimeout(resolve, POLL_MS); });
    }
    catchingUp = false;
  }

  if (root.dataset.replying === 'true') {
    showError('The coach is still answering in another tab or window. This page will catch up.');
    catchUp();
  }

  if (transcript.querySelector('.message')) {
    scrollToBottom();
  }
})();
