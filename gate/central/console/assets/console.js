// GateWatch console behaviour: the live page's event stream (alerts as
// they arrive, unacknowledged on top, a sound unless muted), and small
// helpers (print). Every word shown comes from the server's catalogues
// (data- attributes rendered by the templates).
(function () {
  'use strict';
  var live = window.consoleLive = { events: [], connected: false };

  function beep() {
    if (localStorage.getItem('gw-muted') === '1') return;
    try {
      var AC = window.AudioContext || window.webkitAudioContext;
      live.audio = live.audio || new AC();
      var ctx = live.audio, t = ctx.currentTime;
      [0, 0.25].forEach(function (d) {
        var o = ctx.createOscillator(), g = ctx.createGain();
        o.type = 'square'; o.frequency.value = 880;
        g.gain.setValueAtTime(0.0001, t + d);
        g.gain.exponentialRampToValueAtTime(0.2, t + d + 0.02);
        g.gain.exponentialRampToValueAtTime(0.0001, t + d + 0.18);
        o.connect(g); g.connect(ctx.destination); o.start(t + d); o.stop(t + d + 0.2);
      });
      live.beeps = (live.beeps || 0) + 1;
    } catch (e) { /* no audio device */ }
  }

  function setSoundButton(btn) {
    var muted = localStorage.getItem('gw-muted') === '1';
    btn.setAttribute('aria-pressed', muted ? 'false' : 'true');
    btn.textContent = muted ? btn.dataset.labelOff : btn.dataset.labelOn;
  }

  function counts() {
    var open = document.getElementById('open'), done = document.getElementById('done');
    document.getElementById('open-count').textContent = open.children.length;
    document.getElementById('open-empty').hidden = open.children.length > 0;
    document.getElementById('done-empty').hidden = done.children.length > 0;
    while (done.children.length > 200) done.removeChild(done.lastElementChild);
  }

  function place(html) {
    var tpl = document.createElement('template');
    tpl.innerHTML = html.trim();
    var item = tpl.content.firstElementChild;
    if (!item) return;
    var old = document.getElementById(item.id);
    var focused = old && old.contains(document.activeElement);
    if (old && focused) return; // never pull a form from under a guard typing a note
    if (old) old.remove();
    var list = document.getElementById(item.dataset.acked === '1' ? 'done' : 'open');
    list.insertBefore(item, list.firstElementChild);
    if (window.htmx) window.htmx.process(item);
    if (item.dataset.fresh === '1') {
      item.classList.add('new-flash');
      beep();
    }
    counts();
  }

  function startLive() {
    var status = document.getElementById('live-status');
    var btn = document.getElementById('sound');
    setSoundButton(btn);
    btn.addEventListener('click', function () {
      localStorage.setItem('gw-muted', localStorage.getItem('gw-muted') === '1' ? '0' : '1');
      setSoundButton(btn);
    });
    var es = new EventSource('/live/stream');
    live.source = es;
    es.onopen = function () {
      live.connected = true;
      status.textContent = status.dataset.labelOn; status.classList.add('on');
    };
    es.onerror = function () {
      live.connected = false;
      status.textContent = status.dataset.labelOff; status.classList.remove('on');
    };
    es.addEventListener('alert', function (e) {
      live.events.push({ at: Date.now(), kind: 'alert' });
      place(e.data);
    });
    es.addEventListener('gates', function (e) {
      document.getElementById('problems').innerHTML = e.data;
    });
    es.addEventListener('reload', function () {
      // The server dropped this page because it fell behind: say so, then
      // catch up with a fresh page.
      es.close();
      live.reloadMarker = (live.reloadMarker || 0) + 1;
      sessionStorage.setItem('gw-reloads', String(1 + Number(sessionStorage.getItem('gw-reloads') || 0)));
      document.getElementById('reload').hidden = false;
      status.textContent = status.dataset.labelOff; status.classList.remove('on');
      live.reloadTimer = setTimeout(function () { location.reload(); }, 3000);
    });
    document.getElementById('reload-button').addEventListener('click', function () { location.reload(); });
    document.body.addEventListener('htmx:afterSwap', function () {
      var open = document.getElementById('open'), done = document.getElementById('done');
      Array.prototype.slice.call(open.querySelectorAll(':scope > [data-acked="1"]')).forEach(function (el) {
        done.insertBefore(el, done.firstElementChild);
      });
      counts();
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    if (document.getElementById('open') && document.getElementById('live-status')) startLive();
    var p = document.getElementById('print');
    if (p) p.addEventListener('click', function () { window.print(); });
  });
})();
