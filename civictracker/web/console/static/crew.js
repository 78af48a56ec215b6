/* The crew page on a phone: each ticket's form is sent in the background. A save that fails (no signal,
   a server error) says so and keeps the typed note, also across a reload (localStorage), until it goes. */
(function () {
  'use strict';
  var KEY = 'ct-crew-note-';

  function store(id, text) {
    try { if (text) { localStorage.setItem(KEY + id, text); } else { localStorage.removeItem(KEY + id); } }
    catch (e) { /* private mode: the note still stays in the box */ }
  }

  function restore(form) {
    var id = form.dataset.ticket, box = form.querySelector('textarea');
    var kept = null;
    try { kept = localStorage.getItem(KEY + id); } catch (e) { kept = null; }
    if (kept && box && !box.value) { box.value = kept; }
  }

  function say(form, text, bad) {
    var out = form.querySelector('.save-status');
    out.textContent = text;
    out.className = 'save-status' + (bad ? ' error' : '');
  }

  function send(form, status) {
    var data = new FormData(form);
    data.set('to_status', status);
    var id = form.dataset.ticket, box = form.querySelector('textarea');
    store(id, box ? box.value : '');
    form.querySelectorAll('button').forEach(function (b) { b.disabled = true; });
    say(form, 'Saving…', false);
    fetch(form.action, {method: 'POST', body: data, credentials: 'same-origin',
                        headers: {Accept: 'application/json'}})
      .then(function (r) {
        return r.json().catch(function () { return {ok: false, message: 'The server answered ' + r.status + '.'}; })
          .then(function (d) { return {ok: r.ok && d.ok, message: d.message}; });
      })
      .then(function (res) {
        if (res.ok) { store(id, ''); location.reload(); return; }
        say(form, 'Not saved: ' + (res.message || 'try again.') + ' Your note is kept.', true);
      })
      .catch(function () {
        say(form, 'Not saved: no connection. Your note is kept here; tap again when you have signal.', true);
      })
      .then(function () { form.querySelectorAll('button').forEach(function (b) { b.disabled = false; }); });
  }

  document.querySelectorAll('form.crew-work').forEach(function (form) {
    restore(form);
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var status = ev.submitter && ev.submitter.value ? ev.submitter.value : 'resolved';
      send(form, status);
    });
  });
})();
