/*
 * engagement widget loader: the stable /widget/engagement.js that pages embed. It adds the
 * versioned widget script (cached for a year) with the strings of the page's language in the
 * same file, and hands the widget this tag, whose src and data-* attributes configure it. When
 * the widget cannot load, each comments area says so, with a button that tries again.
 */
(function () {
  "use strict";
  var tag = document.currentScript;
  var state = window.Engagement = window.Engagement || {};
  if (!tag || state.script) return;
  state.script = tag;
  var lang = (tag.getAttribute("data-lang") || document.documentElement.lang || "en").toLowerCase().split(/[-_]/)[0];
  if (!__LANGUAGES__.includes(lang)) lang = "en";

  function load() {
    var script = document.createElement("script");
    script.src = new URL("v/__VERSION__/engagement." + lang + ".js", tag.src).href;
    // Its strings did not load either, so this is said in English.
    script.onerror = function () {
      script.remove();
      document.querySelectorAll(".engagement-comments").forEach(function (area) {
        var message = document.createElement("p");
        var again = document.createElement("button");
        message.setAttribute("role", "alert");
        message.textContent = "The comments could not be loaded.";
        again.textContent = "Try again";
        again.onclick = load;
        area.textContent = "";
        area.append(message, again);
      });
    };
    document.head.append(script);
  }

  load();
})();
