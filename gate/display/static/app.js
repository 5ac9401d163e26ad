// GateGuard lane display: follows /events (server-sent events), renders each
// view (icon + words, in the page's language) and plays its sound: the
// browser's speech synthesis when it has a voice for the language, else the
// view's tone. Every view received is kept in window.laneHistory (the
// browser tests read it); window.laneRender(view) shows a view and stops
// live updates (for screenshots of a given state).
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const lang = document.documentElement.lang || 'en';
  const speechOn = document.body.dataset.speech === 'true';
  const history = [];
  window.laneHistory = history;
  let frozen = false;
  let lastSeq = 0;

  function render(v) {
    document.body.dataset.kind = v.kind;
    document.body.dataset.seq = String(v.seq);
    $('title').textContent = v.title;
    $('detail').textContent = v.detail;
    $('icon').setAttribute('href', '#i-' + v.icon);
    document.title = v.title;
  }

  // Voices load asynchronously in Chromium: ask early so the first prompt
  // can already be spoken.
  if ('speechSynthesis' in window) speechSynthesis.getVoices();

  function voiceFor(l) {
    if (!('speechSynthesis' in window)) return null;
    const want = l.toLowerCase().startsWith('zh') ? 'zh' : l.toLowerCase().slice(0, 2);
    return speechSynthesis.getVoices().find((v) => v.lang.toLowerCase().replace('_', '-').startsWith(want)) || null;
  }

  function play(v) {
    if (speechOn && v.speech) {
      const voice = voiceFor(lang);
      if (voice) {
        speechSynthesis.cancel();
        const u = new SpeechSynthesisUtterance(v.speech);
        u.voice = voice; u.lang = voice.lang; u.rate = 0.95;
        speechSynthesis.speak(u);
        return 'speech';
      }
    }
    if (v.tone) {
      const a = new Audio('/sounds/' + v.tone + '.wav');
      a.play().catch(() => {}); // a kiosk allows autoplay (docs/display.md)
      return 'tone';
    }
    return '';
  }

  function receive(v) {
    const fresh = v.seq > lastSeq;
    lastSeq = Math.max(lastSeq, v.seq);
    const entry = Object.assign({}, v, { played: '' });
    if (fresh && history.length > 0) entry.played = play(v); // not for the state on show at load
    if (!frozen) {
      render(v);
      // What the screen shows now, as a person (or a test) reads it.
      entry.shown = { kind: document.body.dataset.kind, title: $('title').textContent,
        detail: $('detail').textContent, icon: $('icon').getAttribute('href') };
    }
    history.push(entry);
  }

  window.laneRender = function (v) { frozen = true; document.body.classList.add('still'); render(v); };

  function tick() {
    const d = new Date();
    $('clock').textContent = d.toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' });
  }
  tick();
  setInterval(tick, 5000);

  render(JSON.parse($('initial').textContent));
  let offlineTimer = null;
  const es = new EventSource('/events');
  es.addEventListener('state', (e) => {
    clearTimeout(offlineTimer); offlineTimer = null;
    $('offline').hidden = true;
    receive(JSON.parse(e.data));
  });
  es.addEventListener('error', () => {
    // The gate is unreachable: never leave a stale "welcome" on show.
    if (offlineTimer) return;
    offlineTimer = setTimeout(() => {
      if (frozen) return;
      document.body.dataset.kind = 'offline';
      $('icon').setAttribute('href', '#i-wrench');
      $('title').textContent = document.body.dataset.offlineTitle || '…';
      $('detail').textContent = '';
    }, 5000);
  });
})();
