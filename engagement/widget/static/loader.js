/*
 * engagement widget loader: the stable /widget/engagement.js that pages embed. It adds the
 * versioned widget script (cached for a year) and, at the same time, the strings of the page's
 * language, and hands the widget this tag, whose src and data-* attributes configure it. When
 * the widget cannot load, each comments area says so, with a button that tries again.
 */
(function () {
  "use strict";
  var tag = document.currentScript;
  var state = window.Engagement = window.Engagement || {};
  if (!tag || state.script) return;
  state.script = tag;
  var asked = (tag.getAttribute("data-lang") || document.documentElement.lang || "en").toLowerCase().split(/[-_]/)[0];
  var lang = __LANGUAGES__.indexOf(asked) === -1 ? "en" : asked;

  function add(path, failed) {
    var script = document.createElement("script");
    script.src = new URL("v/__VERSION__/" + path, tag.src).href;
    script.async = true;
    script.onerror = function () {
      script.done = true;
      script.remove();
      if (failed) failed();
    };
    document.head.appendChild(script);
    return script;
  }

  function unavailable() {
    var words = (window.EngagementTranslations || {})[lang] || {};
    var areas = document.querySelectorAll(".engagement-comments");
    for (var i = 0; i < areas.length; i++) {
      var message = document.createElement("p");
      var again = document.createElement("button");
      message.setAttribute("role", "alert");
      message.textContent = words.unreachable || "The comments could not be loaded.";
      again.type = "button";
      again.textContent = words.retry || "Try again";
      again.addEventListener("click", load);
      areas[i].textContent = "";
      areas[i].appendChild(message);
      areas[i].appendChild(again);
    }
  }

  function load() {
    var strings = (window.EngagementTranslations || {})[lang] ? null : add("i18n/" + lang + ".js");
    add("engagement.js", function () {
      // Say it in the page's language: wait for its strings when they are still on the way.
      if (strings && !strings.done) {
        strings.addEventListener("load", unavailable);
        strings.addEventListener("error", unavailable);
      } else {
        unavailable();
      }
    });
    if (strings) {
      strings.addEventListener("load", function () {
        strings.done = true;
      });
    }
  }

  load();
})();
