// GateWatch console behaviour: the live page's event stream (alerts as
// they arrive, unacknowledged on top, a sound unless muted), and small
// helpers (print). Every word shown comes from the server's catalogues
// (data- attributes rendered by the templates).
(function () {
  'use strict';
  var live = window.consoleLive = { received: 0, connected: false };

  function beep() {
    if (localStorage.getItem('gw-muted') === '1') return;
    var now = Date.now();
    if (live.lastBeep && now - live.lastBeep < 1500) return; // one sound for a burst
    live.lastBeep = now;
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

  // At most this many items per list stay in the page (a flood must not
  // make it unusable); the badge then shows the number with a "+".
  var maxItems = 150;

  function counts() {
    var open = document.getElementById('open'), done = document.getElementById('done');
    while (open.children.length > maxItems) { open.removeChild(open.lastElementChild); live.trimmed = true; }
    document.getElementById('open-count').textContent = open.children.length + (live.trimmed ? '+' : '');
    document.getElementById('open-empty').hidden = open.children.length > 0;
    document.getElementById('done-empty').hidden = done.children.length > 0;
    while (done.children.length > maxItems) done.removeChild(done.lastElementChild);
  }

  // place puts one item where it belongs: unacknowledged on top of the
  // first list, acknowledged on top of the second. It returns whether the
  // item is a new alert.
  function place(html, flash) {
    var tpl = document.createElement('template');
    tpl.innerHTML = html.trim();
    var item = tpl.content.firstElementChild;
    if (!item) return false;
    var old = document.getElementById(item.id);
    if (old && old.contains(document.activeElement)) return false; // never pull a form from under a guard typing a note
    if (old) old.remove();
    var list = document.getElementById(item.dataset.acked === '1' ? 'done' : 'open');
    list.insertBefore(item, list.firstElementChild);
    if (window.htmx && item.querySelector('[hx-post]')) window.htmx.process(item);
    var fresh = item.dataset.fresh === '1';
    if (fresh && flash) item.classList.add('new-flash');
    return fresh;
  }

  // Updates are applied in batches, at most ten times a second, the last
  // version of each item only: a burst costs one layout, not one per alert.
  var pending = new Map();
  var scheduled = false;
  function enqueue(html) {
    var m = /id="(alert-[^"]+)"/.exec(html);
    var key = m ? m[1] : String(Math.random());
    pending.delete(key);
    pending.set(key, html);
    if (!scheduled) { scheduled = true; setTimeout(flush, 100); }
  }
  function flush() {
    scheduled = false;
    var items = Array.from(pending.values());
    pending.clear();
    var fresh = 0;
    // Under a flood, no flashing: it repaints every new item twice.
    var calm = items.length <= 2;
    items.forEach(function (h) { if (place(h, calm && fresh < 1)) fresh++; });
    if (fresh) beep();
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
      live.received = (live.received || 0) + 1;
      enqueue(e.data);
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
