// Live search on the app list.  The pages read fine without it: the list is
// static HTML and the category filters are plain links to static pages.
"use strict";
(function () {
  var box = document.getElementById("search-box");
  var input = document.getElementById("search");
  var list = document.getElementById("app-list");
  if (!box || !input || !list) { return; }
  var cards = Array.prototype.slice.call(list.querySelectorAll("li[data-search]"));
  var count = document.getElementById("result-count");
  var none = document.getElementById("no-results");
  box.hidden = false;
  function apply() {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    cards.forEach(function (card) {
      var text = card.getAttribute("data-search");
      var match = words.every(function (word) { return text.indexOf(word) !== -1; });
      card.hidden = !match;
      if (match) { shown += 1; }
    });
    count.textContent = words.length ? shown + " of " + cards.length + " apps match" : "";
    none.hidden = shown !== 0;
  }
  input.addEventListener("input", apply);
  var query = new URLSearchParams(window.location.search).get("q");
  if (query) { input.value = query; }
  apply();
})();
