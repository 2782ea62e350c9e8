// Live progress of the Item cards still queued or generating: one
// EventSource on /events (the session cookie authorises it), one update
// per event; the stream ends with "end" (reason "final" when all are done).
(function () {
  'use strict';
  var cards = {};
  document.querySelectorAll('[data-item][data-status="queued"], [data-item][data-status="processing"]').forEach(function (c) {
    cards[c.dataset.item] = c;
  });
  var ids = Object.keys(cards);
  if (ids.length === 0 || !window.EventSource) { return; }

  function stateText(ev, steps) {
    switch (ev.status) {
    case 'queued':
      return ev.queuePosition !== undefined ? 'Queued, position ' + ev.queuePosition : 'Queued';
    case 'processing':
      return ev.progress !== undefined && steps > 0 ?
        'Generating, step ' + Math.round(ev.progress * steps) + ' of ' + steps : 'Generating';
    case 'completed':
      return 'Done';
    default:
      return 'Failed' + (ev.reason ? ': ' + ev.reason : '');
    }
  }

  function finish(card, ev) {
    card.querySelectorAll('progress, form.cancel').forEach(function (n) { n.remove(); });
    if (ev.status !== 'completed' || !ev.url) { return; }
    var file = new URL(ev.url, location.href).searchParams.get('id');
    var img = document.createElement('img');
    img.src = '/api/getFile?id=' + encodeURIComponent(file) + '&width=256&height=256&mode=fill';
    img.width = 256; img.height = 256; img.alt = card.dataset.prompt || 'Generated image';
    var thumb = card.querySelector('.thumb');
    thumb.replaceChildren(img);
  }

  // showPreview puts the latest live preview (previewVersion counts them)
  // in the card's thumbnail while the Item generates.
  function showPreview(card, ev) {
    if (ev.status !== 'processing' || ev.previewVersion === undefined ||
        card.dataset.preview === String(ev.previewVersion)) { return; }
    var thumb = card.querySelector('.thumb');
    if (!thumb) { return; }
    card.dataset.preview = String(ev.previewVersion);
    var img = thumb.querySelector('img.preview');
    if (!img) {
      img = document.createElement('img');
      img.className = 'preview';
      img.width = 256; img.height = 256;
      img.alt = 'Preview: ' + (card.dataset.prompt || 'the image being generated');
      thumb.replaceChildren(img);
    }
    img.src = '/items/' + encodeURIComponent(card.dataset.item) + '/preview?v=' + ev.previewVersion;
  }

  function update(card, ev) {
    card.dataset.status = ev.status;
    showPreview(card, ev);
    card.querySelector('.state').textContent = stateText(ev, Number(card.dataset.steps));
    var bar = card.querySelector('progress');
    if (bar && ev.progress !== undefined) { bar.value = ev.progress; }
    if (ev.status === 'completed' || ev.status === 'failed') { finish(card, ev); }
  }

  var es = new EventSource('/events?ids=' + ids.join(','));
  es.onmessage = function (m) {
    var ev = JSON.parse(m.data);
    if (cards[ev.imageID]) { update(cards[ev.imageID], ev); }
  };
  es.addEventListener('end', function (m) {
    var why = JSON.parse(m.data).reason;
    if (why === 'final' || why === 'gone') { es.close(); }
  });
})();
