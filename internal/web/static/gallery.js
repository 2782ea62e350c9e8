// Infinite scroll of My creations: when the "More" link comes into view,
// the next page (by paginationIndex) is fetched and its cards appended.
(function () {
  'use strict';
  var grid = document.getElementById('grid');
  if (!grid || !window.IntersectionObserver) { return; }
  var loading = false;

  function next(more) {
    if (loading) { return; }
    loading = true;
    fetch(more.href, { credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return r.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, 'text/html');
      doc.querySelectorAll('#grid > li').forEach(function (li) { grid.appendChild(document.adoptNode(li)); });
      var after = doc.getElementById('more');
      loading = false;
      if (!after) { observer.disconnect(); more.parentNode.remove(); return; }
      more.href = after.href;
      observer.unobserve(more); // observe again: still in view means load on
      observer.observe(more);
    }).catch(function () { loading = false; });
  }

  var more = document.getElementById('more');
  if (!more) { return; }
  var observer = new IntersectionObserver(function (entries) {
    if (entries[0].isIntersecting) { next(more); }
  }, { rootMargin: '400px' });
  observer.observe(more);
})();
