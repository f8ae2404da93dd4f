/*
 * engagement widget loader: the stable /widget/engagement.js that pages embed. It adds, side
 * by side, the versioned widget script (cached for a year) and the strings of the page's
 * language, and hands the widget this tag, whose src and data-* attributes configure it. When
 * the widget cannot load, each comments area says so, with a button that tries again.
 */
(function () {
  "use strict";
  var tag = document.currentScript;
  var state = window.Engagement = window.Engagement || {};
  if (!tag || state.script) return;
  state.script = tag;
  var lang = (tag.getAttribute("data-lang") || document.documentElement.lang || "en").toLowerCase().split(/[-_]/)[0];
  if (__LANGUAGES__.indexOf(lang) < 0) lang = "en";

  function strings() {
    return (window.EngagementTranslations || {})[lang];
  }

  /** Adds a versioned script; resolves with whether it failed to load. */
  function add(path) {
    var script = document.createElement("script");
    script.src = new URL("v/__VERSION__/" + path, tag.src).href;
    document.head.appendChild(script);
    return new Promise(function (resolve) {
      script.onload = function () {
        resolve(false);
      };
      script.onerror = function () {
        script.remove();
        resolve(true);
      };
    });
  }

  function load() {
    Promise.all([strings() || add("i18n/" + lang + ".js"), add("engagement.js")]).then(function (failed) {
      if (!failed[1]) return; // the widget runs
      var words = strings() || {};
      document.querySelectorAll(".engagement-comments").forEach(function (area) {
        var message = document.createElement("p");
        var again = document.createElement("button");
        message.setAttribute("role", "alert");
        message.textContent = words.un || "The comments could not be loaded.";
        again.textContent = words.ry || "Try again";
        again.onclick = load;
        area.textContent = "";
        area.append(message, again);
      });
    });
  }

  load();
})();
