/*
 * engagement widget: comment counts, share buttons, comments, What's Hot and the newsletter
 * signup for a news site's pages (README, "Embedding the
 * widget"). Plain JavaScript, no framework. The service serves it minified and compressed at a
 * versioned URL that the small /widget/engagement.js loader adds, with the strings of the
 * page's language (i18n/<lang>.json) in front of it in the same file; another language a
 * placeholder asks for comes as a script of its own. en.json reads as their glossary (t("rq")
 * is "Please fill in this field."), and its order is theirs: the service sends each language
 * as a list in that order, and writes each t("rq") of this script as the string's place in it,
 * so every key here is written out. The minifier shortens the properties of the script's own
 * objects too (routes.OWN_PROPERTIES: a part's region, a form's send...), so none is ever
 * read by a string.
 *
 * It sets no cookies (every request omits credentials) and keeps in localStorage only the
 * author's edit tokens, drafts, and the name and email of a reader who ticked "remember me".
 * Only body_html, which the service sanitises, is inserted as HTML.
 *
 * Shape: `app` is the one page-wide context (service, stores shared by all parts of an
 * article); each placeholder kind has a fill function that builds a small part context
 * (`part`: its root, article, translator) and named functions that take it. The comment thread
 * is `thread`, a part with the list, the pager and the open form.
 */
(function () {
  "use strict";

  // engagement.css, minified, which the service writes in here: the stylesheet comes in the
  // script's file, and a page whose Content-Security-Policy lets the script run needs nothing
  // more for it (a constructed stylesheet is not an inline style; `style-src` is not asked).
  var STYLESHEET = "__STYLESHEET__";
  // Article ids: unreserved URL characters and percent-encoded bytes (or the letters they
  // encode); encodeURIComponent puts them in a URL, the service checks the rest.
  var SLUG = /^(?![._~-])(?:[\w.~-]|%[\dA-F]{2}|[^\x00-\x7f]){1,200}$/i;
  var LANGUAGES = ["en", "fr", "de", "es", "ar", "so"];
  var RTL = ["ar"];
  var ORDERS = ["oldest", "newest", "best"];
  var PLURALS = ["zero", "one", "two", "few", "many", "other"]; // a plural string's forms
  var COUNT_CHUNK = 100;
  var PAGE_SIZE = 20;
  var PERMALINK_PAGES = 50;
  var KEY = "engagement:";
  // After a write, reads revalidate (no-cache) for this long, so a reader who reloads sees
  // their own change at once instead of a copy cached for max-age.
  var REVALIDATE_AFTER_WRITE_MS = 10 * 60 * 1000;

  // Share page ({u} is the URL and {t} the title, both encoded), icon, the icon's colour where
  // the network has one of its own, and the name where it is not the key capitalised (or is
  // translated: networkLabel).
  var NETWORKS = {
    facebook: ["https://www.facebook.com/sharer/sharer.php?u={u}", "M15 3h-2a4 4 0 0 0-4 4v14M6 11h8", "#1877f2"],
    x: ["https://x.com/intent/post?url={u}&text={t}", "M4 4l16 16M20 4L4 20"],
    pinterest: ["https://www.pinterest.com/pin/create/button/?url={u}&description={t}", "M8 21l4-12M9 15c5 2 9-1 8-6S10 3 7 8", "#e60023"],
    linkedin: ["https://www.linkedin.com/sharing/share-offsite/?url={u}", "M5 10v10M5 5v1M10 20V10m0 5a4 4 0 0 1 8 0v5", "#0a66c2", "LinkedIn"],
    tumblr: ["https://www.tumblr.com/widgets/share/tool?canonicalUrl={u}&title={t}", "M10 3v14a3 3 0 0 0 3 3h3M7 9h9", "#5a7391"],
    email: ["mailto:?subject={t}&body={u}", "M3 6h18v12H3zm0 0l9 7 9-7"],
    whatsapp: ["https://wa.me/?text={t}%20{u}", "M4 20l1.5-4.5a8 8 0 1 1 3 3z", "#25a244", "WhatsApp"],
    reddit: ["https://www.reddit.com/submit?url={u}&title={t}", "M12 8V3l5 1M4 14a8 5 0 0 0 16 0a8 5 0 0 0-16 0M9 13v1m6-1v1", "#ff4500"],
    telegram: ["https://t.me/share/url?url={u}&text={t}", "M21 4L3 11l7 2 2 7 3-5 5 4zm-11 9l11-9", "#229ed9"],
    copy_link: ["", "M10 14a4 4 0 0 0 6 0l3-3a4 4 0 0 0-6-6l-1 1m2 8a4 4 0 0 0-6 0l-3 3a4 4 0 0 0 6 6l1-1"],
  };

  var own = document.currentScript;
  var loader = (window.Engagement && window.Engagement.script) || own;
  if (!own || !loader || !loader.src) return;
  var loaderUrl = new URL(loader.src, document.baseURI);
  var app = {
    base: loaderUrl.origin + loaderUrl.pathname.replace(/\/widget\/[^/]*$/, ""),
    assets: new URL(".", own.src).href,
    languages: {}, // lang -> Promise of the language loaded (or English)
    articles: {}, // slug -> Promise of the article
    shares: {}, // slug -> {counts, rows: [function]}
    // Parts that could not reach the service stay empty and wait for a retry (the comments
    // area's button, or Engagement.refresh()): [function refill].
    failed: [],
    threads: [],
    keys: {}, // a write's request -> its Idempotency-Key, kept while its answer is lost
    uid: 0,
  };

  // --- Small tools ---------------------------------------------------------------------------

  /** An element with attributes (a function is a listener of that event: `click`), and
   * children that are elements or text (never HTML). */
  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) {
      var value = attributes[key];
      if (value == null || value === false) return;
      if (key === "text") node.textContent = value;
      else if (typeof value === "function") node.addEventListener(key, value);
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child != null) node.append(child);
    });
    return node;
  }

  function nextId(name) {
    return "engagement-" + name + "-" + ++app.uid;
  }

  function icon(path, colour) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    var line = document.createElementNS(ns, "path");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "engagement-icon");
    if (colour) svg.style.color = colour;
    line.setAttribute("d", path);
    svg.append(line);
    return svg;
  }

  /** localStorage where the browser allows it; without, the widget works and keeps nothing. */
  function stored(method, key, value) {
    try {
      return JSON.parse(localStorage[method](KEY + key, JSON.stringify(value)) || null);
    } catch (error) {
      return null;
    }
  }

  function load(key) {
    return stored("getItem", key);
  }

  function save(key, value) {
    stored("setItem", key, value);
  }

  function forget(key) {
    stored("removeItem", key);
  }

  // --- Languages -----------------------------------------------------------------------------

  /** The language a placeholder asks for: its data-lang, the script tag's, the page's. */
  function languageOf(root) {
    var asked = root.getAttribute("data-lang") || loader.getAttribute("data-lang") ||
      document.documentElement.lang || "en";
    var primary = asked.toLowerCase().split(/[-_]/)[0];
    return LANGUAGES.includes(primary) ? primary : "en";
  }

  function stringsOf(lang) {
    return (window.EngagementTranslations || {})[lang];
  }

  /** Resolves with a language whose strings are loaded: the one asked for, else English. */
  function loadLanguage(lang) {
    if (stringsOf(lang)) return Promise.resolve(lang);
    if (!app.languages[lang]) {
      app.languages[lang] = new Promise(function (resolve) {
        document.head.append(el("script", { src: app.assets + "i18n/" + lang + ".js", load: resolve, error: resolve }));
      }).then(function () {
        return stringsOf(lang) || lang === "en" ? lang : loadLanguage("en");
      });
    }
    return app.languages[lang];
  }

  /** t(key, vars) in a language; t.n(key, n) picks the plural form (key_zero for 0 when the
   * language has one, else key_one, key_two, key_few, key_many, key_other by Intl.PluralRules:
   * the forms of a key come as one list, in PLURALS' order). */
  function translator(lang) {
    var strings = stringsOf(lang) || stringsOf("en") || [];
    var rules = new Intl.PluralRules(lang);

    function t(key, vars) {
      return fill(strings[key], vars);
    }
    t.lang = lang;
    t.number = new Intl.NumberFormat(lang).format;
    t.n = function (key, n) {
      var forms = strings[key] || [];
      return fill(n === 0 && forms[0] || forms[PLURALS.indexOf(rules.select(n))] || forms[5], { n: t.number(n) });
    };
    return t;
  }

  /** The text with its {name} placeholders filled in. */
  function fill(text, vars) {
    return (text || "").replace(/\{(\w+)\}/g, function (all, name) {
      return vars && name in vars ? vars[name] : all;
    });
  }

  /** A part: the placeholder's root, article and translator, with its language and theme set. */
  function makePart(root) {
    var lang = root.engagementLanguage || "en";
    var theme = root.getAttribute("data-theme") || loader.getAttribute("data-theme") || "auto";
    root.setAttribute("lang", lang);
    root.setAttribute("dir", RTL.includes(lang) ? "rtl" : "ltr");
    root.classList.add("engagement-root");
    root.classList.toggle("engagement-light", theme === "light");
    root.classList.toggle("engagement-dark", theme === "dark");
    return { root: root, slug: root.getAttribute("data-article") || "", t: translator(lang) };
  }

  function attribute(part, name, fallback) {
    var value = part.root.getAttribute(name);
    if (value === null) value = loader.getAttribute(name);
    return value === null ? fallback : value;
  }

  // --- The API -------------------------------------------------------------------------------

  function ApiError(status, reason, message, fields, retryAfter) {
    this.status = status; // 0: the service could not be reached
    this.reason = reason;
    this.message = message;
    this.fields = fields || {};
    this.retryAfter = retryAfter;
  }

  /** One call to the public API; resolves with the JSON answer, rejects with an ApiError.
   * A write carries an Idempotency-Key, the same one while the same request is retried after
   * its answer was lost, so that the service writes it once. */
  function api(method, path, body, headers) {
    var init = { method: method, credentials: "omit", headers: headers || {} };
    var json = JSON.stringify(body);
    var attempt = method + path + json;
    if (body) {
      init.headers["Content-Type"] = "application/json";
      init.body = json;
      init.headers["Idempotency-Key"] = app.keys[attempt] = app.keys[attempt] || Date.now() + Math.random().toString(36);
    }
    if (method === "GET" && Date.now() - load("last-write") < REVALIDATE_AFTER_WRITE_MS) init.cache = "no-cache";
    return fetch(app.base + "/api/v1" + path, init).then(function (response) {
      delete app.keys[attempt]; // answered: a new attempt is a new request
      if (method !== "GET" && response.ok) save("last-write", Date.now());
      if (response.status === 204) return null;
      return response.json().catch(function () {
        return null;
      }).then(function (data) {
        if (response.ok) return data;
        data = data || {};
        throw new ApiError(response.status, data.reason || null, data.message || response.statusText,
          fieldErrors(data.errors), parseInt(response.headers.get("Retry-After"), 10));
      });
    }, function () {
      throw new ApiError(0, "unreachable");
    });
  }

  /** The envelope's errors as {field: "first message"}, whatever part of the request. */
  function fieldErrors(errors) {
    var found = {};
    Object.keys(errors || {}).forEach(function (location) {
      Object.keys(errors[location] || {}).forEach(function (name) {
        found[name] = [].concat(errors[location][name]).join(" ");
      });
    });
    return found;
  }

  /** An error in the reader's words and language. */
  function errorText(t, error) {
    if (!(error instanceof ApiError)) {
      console.error(error);
      return t("br");
    }
    if (error.status === 0) return t("un");
    if (error.status === 429) {
      var wait = error.retryAfter > 0 ? waitText(t, error.retryAfter) : null;
      return t("tm", { limit: error.message }) + " " + (wait ? t("ti", { wait: wait }) : t("tr"));
    }
    var known = { validation: t("iv"), comments_closed: t("cl"), banned: t("bn"),
      edit_window_expired: t("eo"), invalid_token: t("er"), not_found: t("gn") }[error.reason];
    if (known) return known;
    return error.status >= 500 ? t("se", { status: error.status }) : error.message;
  }

  function waitText(t, seconds) {
    var unit = seconds < 90 ? "second" : "minute";
    var amount = seconds < 90 ? seconds : Math.ceil(seconds / 60);
    return new Intl.NumberFormat(t.lang, { style: "unit", unit: unit, unitDisplay: "long" }).format(amount);
  }

  /** An article, fetched once per page and shared by the parts that need it. */
  function article(slug) {
    if (!app.articles[slug]) {
      app.articles[slug] = api("GET", "/articles/" + encodeURIComponent(slug));
      app.articles[slug].catch(function () {
        delete app.articles[slug]; // a later attempt may succeed
      });
    }
    return app.articles[slug];
  }

  // --- Notices: a live region per part ---------------------------------------------------------

  function statusRegion() {
    return el("div", { class: "engagement-status", "aria-live": "polite" });
  }

  /** A notice in a region; focused when the action that caused it took focus away. */
  function notice(region, text, kind, focus) {
    var box = el("p", { class: "engagement-notice engagement-" + (kind || "info"), tabindex: "-1", text: text });
    region.replaceChildren(box);
    if (focus) box.focus();
    return box;
  }

  /** An error in a region, with a retry button when the service could not be reached. A field
   * error here is of a field without an input (the form's own go on their inputs): the reader
   * gets "invalid fields" in their language, never the service's English message. */
  function showError(part, region, error, retry) {
    var box = el("div", { class: "engagement-error", role: "alert", tabindex: "-1" }, [
      el("p", { class: "engagement-error-message", text: errorText(part.t, error) }),
    ]);
    if (retry && error instanceof ApiError && error.status === 0) {
      box.append(button(part.t("ry"), "engagement-retry", function () {
        region.textContent = "";
        retry();
      }));
    }
    region.replaceChildren(box);
    return box;
  }

  /** A button waiting for the service; disabling it drops its focus, so it gets it back. */
  function busy(button, on) {
    if (on) button.hadFocus = document.activeElement === button;
    button.disabled = on;
    button.setAttribute("aria-busy", on); // "false" says what no attribute says
    if (!on && button.hadFocus && document.activeElement === document.body) button.focus();
  }

  function retryAll() {
    app.failed.splice(0).forEach(function (refill) {
      refill();
    });
  }

  // --- Comment counts: every span on the page, one /counts request per 100 articles --------

  function fillCounts(spans) {
    var bySlug = {};
    spans.forEach(function (span) {
      var slug = span.getAttribute("data-article") || "";
      if (SLUG.test(slug)) (bySlug[slug] = bySlug[slug] || []).push(span);
    });
    var slugs = Object.keys(bySlug);
    for (var start = 0; start < slugs.length; start += COUNT_CHUNK) {
      fetchCounts(slugs.slice(start, start + COUNT_CHUNK), bySlug);
    }
  }

  function fetchCounts(slugs, bySlug) {
    api("GET", "/counts?ids=" + slugs.map(encodeURIComponent).join(",")).then(function (data) {
      slugs.forEach(function (slug) {
        var counts = (data.counts || {})[slug] || { comments: 0 };
        showCommentCount(slug, counts.comments, bySlug[slug]);
      });
    }, function () {
      // Counts stay empty: never an error sentence inside a byline or a teaser.
      app.failed.push(function () {
        fetchCounts(slugs, bySlug);
      });
    });
  }

  /** The article's count spans (all on the page, or those given) say the count. */
  function showCommentCount(slug, count, spans) {
    (spans || document.querySelectorAll(".engagement-count[data-article]")).forEach(function (span) {
      if (span.getAttribute("data-article") !== slug) return;
      span.textContent = translator(span.engagementLanguage || "en").n("c", count);
    });
  }

  // --- Share buttons: every row of an article shows the same counts -------------------------

  function fillShares(root) {
    var part = makePart(root);
    part.list = el("ul", { class: "engagement-share-list", "aria-label": part.t("sl") });
    part.region = statusRegion();
    part.buttons = {};
    root.replaceChildren(part.list, part.region);
    if (!SLUG.test(part.slug)) return showError(part, part.region, new ApiError(-1, null, part.t("bs")));
    article(part.slug).then(function (data) {
      var counts = data.share_counts || {};
      shareNetworks(part, counts).forEach(function (network) {
        addShareButton(part, network);
      });
      var store = app.shares[part.slug] = app.shares[part.slug] || { counts: counts, rows: [] };
      store.rows.push(function (fresh) {
        setShareCounts(part, fresh);
      });
      setShareCounts(part, store.counts);
    }, function () {
      app.failed.push(function () {
        fillShares(root);
      });
    });
  }

  /** data-networks in the site's order, else every network the service counts. */
  function shareNetworks(part, counts) {
    var wanted = attribute(part, "data-networks", "").split(",").map(function (name) {
      return name.trim().toLowerCase().replace(/^twitter$/, "x");
    }).filter(function (name) {
      return name in counts && name !== "total";
    });
    if (wanted.length) return wanted;
    return Object.keys(NETWORKS).filter(function (name) {
      return name in counts;
    }).concat(Object.keys(counts).filter(function (name) {
      return !(name in NETWORKS) && name !== "total";
    }).sort());
  }

  function networkLabel(part, network) {
    var translated = { email: part.t("ml"), copy_link: part.t("copy_link") }[network];
    return translated || (NETWORKS[network] || [])[3] || network.charAt(0).toUpperCase() + network.slice(1).replace(/_/g, " ");
  }

  function addShareButton(part, network) {
    var known = NETWORKS[network] || ["", "M12 3v12m-5-5l5-5 5 5M5 15v5h14v-5"];
    var button = el("button", {
      type: "button", class: "engagement-button engagement-share-button", "data-network": network,
      click: function () {
        share(part, network);
      },
    }, [
      icon(known[1], known[2]),
      el("span", { class: "engagement-share-name", text: networkLabel(part, network) }),
      el("span", { class: "engagement-share-count", "aria-hidden": "true" }),
      el("span", { class: "engagement-sr" }),
    ]);
    part.buttons[network] = button;
    part.list.append(el("li", {}, [button]));
  }

  /** Counts on the buttons; a network nobody shared on shows no number. */
  function setShareCounts(part, counts) {
    Object.keys(part.buttons).forEach(function (network) {
      var count = counts[network] || 0;
      var button = part.buttons[network];
      button.querySelector(".engagement-share-count").textContent = count ? part.t.number(count) : "";
      button.querySelector(".engagement-sr").textContent = count ? " " + part.t.n("s", count) : "";
    });
  }

  function publishShareCounts(slug, counts) {
    var store = app.shares[slug];
    if (!store) return;
    store.counts = counts;
    store.rows.forEach(function (update) {
      update(counts);
    });
  }

  function share(part, network) {
    var url = part.root.getAttribute("data-url") || canonicalUrl();
    var title = part.root.getAttribute("data-title") || document.title;
    var href = (NETWORKS[network] || [])[0];
    part.region.textContent = "";
    // Opened within the click, before any wait, so that popup blockers let it through.
    if (network === "copy_link") copyLink(part, url);
    else if (href) {
      href = fill(href, { u: encodeURIComponent(url), t: encodeURIComponent(title) });
      if (network === "email") window.location.href = href;
      else window.open(href, "_blank", "noopener,noreferrer,width=640,height=560");
    }
    api("POST", "/articles/" + encodeURIComponent(part.slug) + "/shares", { network: network }).then(function (data) {
      publishShareCounts(part.slug, data.share_counts || {});
    }, function (error) {
      // Unreachable: the share page opened all the same; the count waits for next time.
      if (error.status) showError(part, part.region, error);
    });
  }

  function canonicalUrl() {
    var link = document.querySelector('link[rel="canonical"]');
    return (link && link.href) || window.location.href;
  }

  function copyLink(part, url) {
    function fallback() {
      notice(part.region, part.t("ct", { url: url }));
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(url).then(function () {
        notice(part.region, part.t("cd"), "success");
      }, fallback);
    } else {
      fallback();
    }
  }

  // --- What's Hot ------------------------------------------------------------------------------

  function fillTrending(root) {
    var part = makePart(root);
    var query = "?window=" + encodeURIComponent(attribute(part, "data-window", "24h")) +
      "&by=" + encodeURIComponent(attribute(part, "data-by", "engagement")) +
      "&limit=" + encodeURIComponent(attribute(part, "data-limit", "5"));
    root.textContent = "";
    api("GET", "/trending" + query).then(function (data) {
      (data.items || []).forEach(function (item) {
        var link = item.url && /^https?:\/\//i.test(item.url)
          ? el("a", { href: item.url, text: item.title || item.id })
          : el("span", { text: item.title || item.id });
        root.append(el("li", { class: "engagement-trending-item" }, [
          link, " ", el("span", { class: "engagement-trending-count", text: part.t.n("c", item.comments) }),
        ]));
      });
      if (!root.children.length) root.append(el("li", { class: "engagement-muted", text: part.t("ho") }));
    }, function () {
      app.failed.push(function () {
        fillTrending(root);
      });
    });
  }

  // --- Forms: fields with their errors, drafts, validation ---------------------------------

  /** A labelled field, the input styled; its hint and error (when any) are tied to the input. */
  function field(input, label, hint) {
    var id = input.id || (input.id = nextId("field"));
    input.classList.add(input.type === "checkbox" ? "engagement-checkbox" : "engagement-input");
    var error = el("p", { class: "engagement-field-error", id: id + "-error", hidden: true });
    var hintNode = hint ? el("p", { class: "engagement-hint", id: id + "-hint", text: hint }) : null;
    input.setAttribute("aria-describedby", (hint ? id + "-hint " : "") + error.id);
    // A field the reader changes is no longer marked wrong; sending checks it again.
    input.addEventListener("input", function () {
      setFieldError(input);
    });
    var labelNode = el("label", { for: id }, label);
    return input.type === "checkbox"
      ? el("div", { class: "engagement-check" }, [input, labelNode, hintNode, error])
      : el("div", { class: "engagement-field" }, [labelNode, input, hintNode, error]);
  }

  function setFieldError(input, message) {
    var error = document.getElementById(input.id + "-error");
    error.textContent = message || "";
    error.hidden = !message;
    input.setAttribute("aria-invalid", Boolean(message));
  }

  /** Checks the form's inputs before anything is sent (so a typo costs no request and no rate
   * limit); returns whether all are fine, focusing the first that is not. */
  function validate(t, inputs) {
    var first = null;
    inputs.forEach(function (input) {
      var value = input.type === "checkbox" ? input.checked : input.value.trim();
      var message = null;
      if (input.required && !value) message = t(input.type === "checkbox" ? "nc" : "rq");
      else if (input.type === "email" && value && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) message = t("be");
      else if (input.maxLength > 0 && input.value.length > input.maxLength) message = t("tl", { max: input.maxLength });
      setFieldError(input, message);
      if (message && !first) first = input;
    });
    if (first) first.focus();
    return !first;
  }

  /** The service's field errors on the inputs they belong to; true when any was shown. */
  function showFieldErrors(t, form, error) {
    var shown = false;
    Object.keys(error.fields || {}).forEach(function (name) {
      var input = form.querySelector('[name="' + name + '"]');
      if (!input) return;
      setFieldError(input, error.fields[name]);
      if (!shown) input.focus();
      shown = true;
    });
    return shown;
  }

  function button(text, className, onClick, label) {
    return el("button", { type: "button", class: "engagement-button " + className, text: text, "aria-label": label, click: onClick });
  }

  /** A form: an optional title, its children, a submit button (and `extra` buttons) and a
   * status region. On submit it checks the required inputs, calls send() (a promise) and then
   * done(data); an error goes to `failed` first, then onto its fields, else into the region
   * in words, with a retry when the service could not be reached. */
  function makeForm(part, options) {
    var submit = el("button", { type: "submit", class: "engagement-button " + (options.submitClass || "engagement-submit"), text: options.submit });
    var titleId = options.title ? nextId("title") : null;
    var region = statusRegion();
    var form = el("form", {
      class: options.class, novalidate: true, "aria-labelledby": titleId, "aria-label": titleId ? null : options.label,
      submit: function (event) {
        event.preventDefault();
        send();
      },
    },
      [titleId ? el("p", { class: "engagement-form-title", id: titleId, text: options.title }) : null].concat(options.children, [
        el("div", { class: "engagement-form-actions" }, [submit].concat(options.extra || [])),
        region,
      ]));
    form.region = region;
    function send() {
      form.region.textContent = "";
      if (!validate(part.t, form.querySelectorAll("[required]"))) return;
      busy(submit, true);
      options.send().then(function (data) {
        busy(submit, false);
        options.done(data);
      }, function (error) {
        busy(submit, false);
        if (options.failed && options.failed(error)) return;
        if (!showFieldErrors(part.t, form, error)) showError(part, form.region, error, send).focus();
      });
    }
    return form;
  }

  // --- Newsletter signup --------------------------------------------------------------------

  function fillNewsletter(root) {
    var part = makePart(root);
    var t = part.t;
    var email = el("input", { name: "email", type: "email", autocomplete: "email", required: true });
    var consent = el("input", { name: "consent", type: "checkbox", required: true });
    var form = makeForm(part, {
      class: "engagement-newsletter-form", title: attribute(part, "data-heading", t("st")) || null, label: t("nl"),
      children: [field(email, [t("em")]), field(consent, [t("cn")])], submit: t("sb"),
      send: function () {
        return api("POST", "/newsletter/subscriptions", {
          email: email.value.trim(), name: null, source: root.getAttribute("data-source") || null, consent: consent.checked, lang: t.lang,
        });
      },
      done: function () {
        form.replaceWith(form.region);
        notice(form.region, t("ib"), "success", true);
      },
    });
    root.replaceChildren(el("div", { class: "engagement-box" }, [form]));
  }

  // --- Comments: the thread ------------------------------------------------------------------

  function fillComments(root) {
    var thread = makePart(root);
    var t = thread.t;
    var heading = attribute(thread, "data-heading", null);
    var order = attribute(thread, "data-order", "oldest");
    app.threads.push(thread);
    thread.order = ORDERS.includes(order) ? order : "oldest";
    thread.title = heading === "" ? null : el("h2", { class: "engagement-comments-title", tabindex: "-1", text: heading || t("cm") });
    thread.fixedTitle = heading !== null;
    thread.region = statusRegion();
    thread.list = el("ol", { class: "engagement-thread" });
    thread.more = button(t("mo"), "engagement-more", function () {
      loadPage(thread, true);
    });
    thread.formSlot = el("div", { class: "engagement-form-slot" });
    thread.author = load("identity") || { name: "", email: "" };
    root.replaceChildren(el("section", { class: "engagement-comments-inner", "aria-label": heading || t("cm") }, [
      thread.title, sortControl(thread), thread.region, thread.list, thread.more, thread.formSlot,
    ]));
    if (!SLUG.test(thread.slug)) return showError(thread, thread.region, new ApiError(-1, null, t("bs")));
    startThread(thread);
  }

  function sortControl(thread) {
    var labels = [thread.t("oldest"), thread.t("newest"), thread.t("best")]; // ORDERS in words
    var select = el("select", {
      name: "order",
      change: function () {
        thread.order = select.value;
        thread.list.textContent = "";
        thread.cursor = null;
        loadPage(thread, false);
      },
    }, ORDERS.map(function (order, index) {
      return el("option", { value: order, text: labels[index], selected: order === thread.order });
    }));
    var wrapper = field(select, [thread.t("so")]);
    wrapper.classList.add("engagement-sort");
    return wrapper;
  }

  /** The article and the first page; when the service cannot be reached, one message with a
   * retry that fills every part of the page that failed. */
  function startThread(thread) {
    thread.root.setAttribute("aria-busy", true);
    thread.more.hidden = true;
    notice(thread.region, thread.t("ld"));
    // The reader's own votes; none (and no vote buttons) where the service takes no votes.
    var votes = api("GET", "/articles/" + encodeURIComponent(thread.slug) + "/votes").catch(function () {
      return null;
    });
    Promise.all([article(thread.slug), api("GET", pagePath(thread, null)), votes]).then(function (answers) {
      thread.region.textContent = "";
      thread.open = answers[0].comments_open !== false;
      thread.votes = answers[2] && answers[2].votes;
      setCount(thread, answers[0].comment_count || 0);
      addPage(thread, answers[1]);
      thread.formSlot.replaceChildren(thread.open ? commentForm(thread, null) : closedNotice(thread));
      if (thread.retried && thread.title) thread.title.focus(); // the retry button is gone
      goToPermalink(thread);
    }, function (error) {
      if (error.status === 0) {
        app.failed.push(function () {
          thread.retried = true;
          startThread(thread);
        });
      }
      showError(thread, thread.region, error, retryAll); // a retry only when unreachable
    }).then(function () {
      thread.root.setAttribute("aria-busy", false);
    });
  }

  function pagePath(thread, cursor) {
    return "/articles/" + encodeURIComponent(thread.slug) + "/comments?order=" + thread.order +
      "&limit=" + PAGE_SIZE + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
  }

  /** The next page (null when it could not be read); with `focus`, the first new comment takes
   * focus so that Tab goes on through the new comments. */
  function loadPage(thread, focus) {
    busy(thread.more, true);
    return api("GET", pagePath(thread, thread.cursor)).then(function (page) {
      var first = addPage(thread, page);
      busy(thread.more, false);
      if (focus && first) first.querySelector(".engagement-comment-main").focus();
      else if (focus && thread.title) thread.title.focus();
      return page;
    }, function (error) {
      busy(thread.more, false);
      var box = showError(thread, thread.region, error, function () {
        loadPage(thread, true);
      });
      if (focus) box.focus();
      return null;
    });
  }

  /** Appends a page's comments (a comment posted since may come again); returns the first added. */
  function addPage(thread, page) {
    var first = null;
    (page.items || []).forEach(function (comment) {
      if (document.getElementById("engagement-comment-" + comment.id)) return;
      var item = renderComment(thread, comment);
      thread.list.append(item);
      first = first || item;
    });
    thread.cursor = page.next_cursor || null;
    thread.more.hidden = !thread.cursor;
    return first;
  }

  function setCount(thread, count) {
    thread.count = Math.max(0, count);
    if (thread.title && !thread.fixedTitle) thread.title.textContent = thread.t.n("c", thread.count);
    showCommentCount(thread.slug, thread.count);
  }

  /** The count as the service has it now, after a write that may have hidden comments (a held
   * edit, a flag), their replies with them. */
  function recount(thread) {
    api("GET", "/articles/" + encodeURIComponent(thread.slug)).then(function (data) {
      setCount(thread, data.comment_count);
    }, function () {
      /* unreachable: the count waits for the next write */
    });
  }

  function closedNotice(thread) {
    return el("p", { class: "engagement-closed", text: thread.t("cl") });
  }

  /** Comments closed while the reader was writing: the forms with text stay, with the reason,
   * so the draft is never thrown away; empty forms and Reply buttons go. */
  function closeComments(thread) {
    thread.open = false;
    thread.root.querySelectorAll(".engagement-reply-button").forEach(function (node) {
      node.remove();
    });
    thread.root.querySelectorAll("form.engagement-form").forEach(function (form) {
      var text = form.querySelector("textarea");
      if (!text.value.trim()) return form.remove();
      form.querySelector(".engagement-submit").disabled = true;
    });
    thread.formSlot.prepend(closedNotice(thread));
  }

  // --- One comment ---------------------------------------------------------------------------

  function renderComment(thread, comment) {
    var item = el("li", {
      class: "engagement-comment" + (comment.pinned ? " engagement-comment-pinned" : ""),
      id: "engagement-comment-" + comment.id, "data-comment-id": comment.id,
    });
    var main = el("article", { class: "engagement-comment-main", tabindex: "-1" });
    var replies = el("ol", { class: "engagement-replies" });
    item.append(main, replies);
    fillMain(thread, main, comment);
    (comment.replies || []).forEach(function (reply) {
      replies.append(renderComment(thread, reply));
    });
    return item;
  }

  /** A comment's header, body and actions; `ui` is what its forms need to know. */
  function fillMain(thread, main, comment) {
    var t = thread.t;
    if (comment.deleted) {
      main.classList.add("engagement-comment-deleted");
      main.replaceChildren(el("p", { class: "engagement-muted", text: t("de") }));
      return null;
    }
    var name = comment.author_name || t("an");
    var body = el("div", { class: "engagement-body", dir: "auto" });
    body.innerHTML = comment.body_html; // sanitised by the service against an allow-list
    var ui = {
      thread: thread, comment: comment, name: name, main: main, body: body,
      actions: el("div", { class: "engagement-actions" }), slot: el("div", { class: "engagement-slot" }), region: statusRegion(),
    };
    main.replaceChildren(avatar(comment, name), el("div", { class: "engagement-comment-content" }, [
      commentHeader(thread, comment, name), body, ui.actions, ui.region,
    ]), ui.slot); // the slot under the avatar too: forms get the comment's whole width
    if (thread.votes) voteButtons(ui);
    if (thread.open) {
      ui.actions.append(button(t("re"), "engagement-action engagement-reply-button", function (event) {
        openSlot(ui, commentForm(thread, ui), event.currentTarget);
      }, t("rt", { name: name })));
    }
    ui.actions.append(button(t("fl"), "engagement-action engagement-flag-button", function (event) {
      openSlot(ui, flagForm(ui), event.currentTarget);
    }, t("fo", { name: name })));
    var entry = editToken(comment.id);
    if (entry) addAuthorButtons(ui, entry);
    return ui;
  }

  function commentHeader(thread, comment, name) {
    var website = comment.author_website;
    var author = website && /^https?:\/\//i.test(website)
      ? el("a", { class: "engagement-author", href: website, rel: "nofollow ugc noopener noreferrer", target: "_blank", text: name })
      : el("span", { class: "engagement-author", text: name });
    return el("div", { class: "engagement-comment-header" }, [ // a div: themes style "header"
      el("bdi", {}, [author]),
      comment.pinned ? el("span", { class: "engagement-pinned-badge", text: thread.t("pn") }) : null,
      el("a", { class: "engagement-permalink", href: "#engagement-comment-" + comment.id }, [
        relativeTime(thread.t, comment.created_at),
      ]),
      comment.edited_at ? el("span", { class: "engagement-muted", text: thread.t("ed") }) : null,
    ]);
  }

  /** "3 hours ago", with the exact time on hover and for assistive technology. */
  function relativeTime(t, iso) {
    var when = new Date(iso);
    if (isNaN(when.getTime())) return el("time", {});
    var seconds = (when - Date.now()) / 1000;
    // The largest unit the time is at least one of; under a minute, "now".
    var unit = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]].find(function (unit) {
      return Math.abs(seconds) >= unit[1];
    }) || ["second", Infinity];
    return el("time", {
      class: "engagement-date", datetime: iso,
      title: new Intl.DateTimeFormat(t.lang, { dateStyle: "long", timeStyle: "short" }).format(when),
      text: new Intl.RelativeTimeFormat(t.lang, { numeric: "auto" }).format(Math.round(seconds / unit[1]), unit[0]),
    });
  }

  function avatar(comment, name) {
    var seed = comment.avatar || name;
    var hue = /^[0-9a-f]{4}/i.test(seed) ? parseInt(seed.slice(0, 4), 16) % 360 : seed.length * 47 % 360;
    var node = el("span", { class: "engagement-avatar", "aria-hidden": "true", text: Array.from(name.trim() || "?")[0].toUpperCase() });
    node.style.backgroundColor = "hsl(" + hue + ", 45%, 35%)";
    return node;
  }

  /** Up and down votes with their counts, the reader's own pressed; pressing it again
   * withdraws it. */
  function voteButtons(ui) {
    var thread = ui.thread, comment = ui.comment;
    var t = thread.t;
    var buttons = [[1, "upvotes", t("vu", { name: ui.name }), "M12 19V5m-6 6l6-6 6 6"], [-1, "downvotes", t("vd", { name: ui.name }), "M12 5v14m-6-6l6 6 6-6"]];
    buttons.forEach(function (kind) {
      // On a closed article the counts stay, and the buttons say they cannot be pressed.
      var node = kind[4] = el("button", {
        type: "button", class: "engagement-button engagement-action engagement-vote" + (kind[0] < 0 ? " engagement-vote-down" : ""),
        disabled: !thread.open,
        click: function () {
          var value = thread.votes[comment.id] === kind[0] ? 0 : kind[0];
          busy(node, true);
          ui.region.textContent = "";
          api("PUT", "/comments/" + comment.id + "/vote", { value: value }).then(function (data) {
            thread.votes[comment.id] = data.value;
            comment.upvotes = data.upvotes;
            comment.downvotes = data.downvotes;
            show();
            // One connection votes as a few readers at most: past them a vote counts nothing.
            if (value && !data.value) notice(ui.region, thread.t("vl"));
          }, function (error) {
            // A service that takes only up votes refuses a down vote: the down buttons go.
            if (error.reason !== "validation" || kind[0] > 0) return showError(thread, ui.region, error);
            thread.upOnly = true;
            thread.list.querySelectorAll(".engagement-vote-down").forEach(function (node) {
      node.remove();
    });
          }).then(function () {
            busy(node, false);
          });
        },
      });
      if (kind[0] > 0 || !thread.upOnly) ui.actions.append(node);
    });
    function show() {
      buttons.forEach(function (kind) {
        kind[4].replaceChildren(el("span", { class: "engagement-sr", text: kind[2] + " " }), icon(kind[3]), thread.t.number(comment[kind[1]] || 0));
        kind[4].setAttribute("aria-pressed", thread.votes[comment.id] === kind[0]);
      });
    }
    show();
  }

  /** One open form per thread, under its comment; Cancel gives focus back to the opener. */
  function openSlot(ui, content, opener) {
    ui.thread.list.querySelectorAll(".engagement-slot").forEach(function (slot) {
      slot.textContent = "";
    });
    ui.region.textContent = "";
    ui.opener = opener;
    ui.slot.append(content);
    // The first field to fill in: the text once the name and email are known.
    var empty = Array.from(content.querySelectorAll("[required]")).filter(function (input) {
      return !input.value;
    });
    (empty[0] || content.querySelector("textarea, select, button")).focus();
  }

  function closeSlot(ui, focus) {
    ui.slot.textContent = "";
    // Back to the button that opened the form, or to the comment's first where that one went.
    if (focus) (ui.opener && ui.opener.isConnected ? ui.opener : ui.actions.querySelector("button")).focus();
  }

  function cancelButton(ui) {
    return button(ui.thread.t("ca"), "engagement-cancel", function () {
      closeSlot(ui, true);
    });
  }

  // --- Permalinks: #engagement-comment-<id> scrolls to it, loading pages until it is found --

  function goToPermalink(thread) {
    var match = /^#engagement-comment-(\d+)$/.exec(window.location.hash);
    if (!match) return;
    var pages = 0;
    (function look() {
      var item = document.getElementById("engagement-comment-" + match[1]);
      if (item && thread.root.contains(item)) return highlight(item);
      if (!thread.cursor || pages++ >= PERMALINK_PAGES) {
        // Every page looked through, and no thread of the page has it: deleted, or never was.
        if (!item) notice(thread.region, thread.t("lg"), null, true);
        return;
      }
      loadPage(thread, false).then(function (page) {
        if (page) look();
      });
    })();
  }

  /** The comment stands out and takes focus (scrolled to the middle for a permalink). */
  function highlight(item, keepScroll) {
    document.querySelectorAll(".engagement-highlight").forEach(function (node) {
      node.classList.remove("engagement-highlight");
    });
    var main = item.querySelector(".engagement-comment-main");
    main.classList.add("engagement-highlight");
    if (!keepScroll) main.scrollIntoView({ block: "center" });
    main.focus({ preventScroll: !keepScroll });
  }

  window.addEventListener("hashchange", function () {
    app.threads.forEach(goToPermalink);
  });

  // --- Posting: the form under the thread, and reply forms under comments ------------------

  function commentForm(thread, parentUi) {
    var t = thread.t;
    var parentId = parentUi ? parentUi.comment.id : null;
    var draftKey = "draft:" + thread.slug + ":" + (parentId || 0);
    var name = el("input", { name: "author_name", autocomplete: "name", maxlength: 80, required: true });
    var email = el("input", { name: "author_email", type: "email", autocomplete: "email", required: true });
    var body = el("textarea", { name: "body", rows: parentUi ? 3 : 5, required: true, dir: "auto" });
    var notify = el("input", { name: "notify_replies", type: "checkbox" });
    var remember = el("input", { name: "remember", type: "checkbox", checked: Boolean(load("identity")) });
    var honeypot = el("input", { name: "website_url", tabindex: "-1", autocomplete: "off" });
    var preview = el("div", { class: "engagement-preview engagement-body", dir: "auto", hidden: true });
    name.value = thread.author.name;
    email.value = thread.author.email;
    body.value = load(draftKey) || "";
    body.addEventListener("input", function () {
      // The draft outlives a reload, a closed thread and a failed post; posting forgets it.
      if (body.value) save(draftKey, body.value);
      else forget(draftKey);
      if (!preview.hidden) showPreview(t, preview, body.value);
    });
    var previewToggle = button(t("pv"), "engagement-cancel", function () {
      preview.hidden = !preview.hidden;
      previewToggle.setAttribute("aria-pressed", !preview.hidden);
      showPreview(t, preview, body.value);
    });
    previewToggle.setAttribute("aria-pressed", false);
    var form = makeForm(thread, {
      class: "engagement-form" + (parentUi ? " engagement-reply-form" : ""),
      title: parentUi ? t("rt", { name: parentUi.name }) : t("lv"),
      children: [
        el("div", { class: "engagement-form-row" }, [field(name, [t("nm")]), field(email, [t("em"), " ", el("span", { class: "engagement-hint", text: t("ns") })])]),
        field(body, [t(parentUi ? "yr" : "co")], t("md")), preview,
        field(notify, [t("nt")], t("nh")), field(remember, [t("rm")]),
        el("div", { hidden: true, "aria-hidden": "true" }, [honeypot]),
      ],
      submit: t(parentUi ? "pr" : "po"),
      extra: [previewToggle, parentUi ? cancelButton(parentUi) : null],
      send: function () {
        thread.author = { name: name.value.trim(), email: email.value.trim() };
        if (remember.checked) save("identity", thread.author);
        else forget("identity");
        var fields = { author_name: thread.author.name, author_email: thread.author.email, body: body.value, parent_id: parentId };
        if (honeypot.value) fields.website_url = honeypot.value;
        // Reply emails: the service asks the address to confirm first, in the reader's language.
        if (notify.checked) {
          fields.notify_replies = true;
          fields.lang = t.lang;
        }
        return api("POST", "/articles/" + encodeURIComponent(thread.slug) + "/comments", fields);
      },
      done: function (data) {
        save("edit:" + data.comment.id, { token: data.edit_token, expires_at: data.edit_expires_at, body: body.value });
        forget(draftKey);
        body.value = "";
        preview.hidden = true;
        posted(thread, data, parentUi, form.region);
      },
      failed: function (error) {
        if (error.fields.parent_id) {
          // The comment replied to went meanwhile: the reply keeps its text, and says why in
          // the reader's language (the service's field message is English).
          form.querySelector(".engagement-submit").disabled = true;
          error = new ApiError(-1, null, t("rg"));
        } else if (error.reason === "comments_closed") closeComments(thread);
        else return false;
        showError(thread, form.region, error).focus();
        return true;
      },
    });
    return form;
  }

  function showPreview(t, preview, source) {
    preview.textContent = "";
    renderMarkdown(preview, source, t("pe"));
  }

  /** The new comment in its place, focused; a held one is a notice. */
  function posted(thread, data, parentUi, formRegion) {
    if (parentUi) closeSlot(parentUi);
    var region = parentUi ? parentUi.region : formRegion;
    if (data.status !== "approved") return notice(region, thread.t("pd"), "pending", true);
    var item = renderComment(thread, data.comment);
    if (parentUi) {
      parentUi.main.parentNode.querySelector(".engagement-replies").append(item);
    } else if (thread.order === "newest") {
      thread.list.insertBefore(item, thread.list.querySelector(":scope > .engagement-comment:not(.engagement-comment-pinned)"));
    } else {
      thread.list.append(item);
    }
    setCount(thread, thread.count + 1);
    notice(region, thread.t(parentUi ? "rp" : "pu"), "success");
    highlight(item, true);
  }

  // --- The author's edit and delete, while the edit window lasts ---------------------------

  function editToken(commentId) {
    var entry = load("edit:" + commentId);
    if (!entry || typeof entry.token !== "string") return null;
    if (Date.parse(entry.expires_at) > Date.now()) return entry;
    forget("edit:" + commentId);
    return null;
  }

  function purgeExpiredTokens() {
    try {
      Object.keys(localStorage).forEach(function (key) {
        var match = /^engagement:edit:(\d+)$/.exec(key);
        if (match) editToken(match[1]);
      });
    } catch (error) {
      /* no storage: no tokens */
    }
  }

  function addAuthorButtons(ui, entry) {
    var t = ui.thread.t;
    ui.actions.querySelector(".engagement-flag-button").before(button(t("e"), "engagement-action engagement-edit-button", function (event) {
      openSlot(ui, editForm(ui), event.currentTarget);
    }, t("ey")), button(t("d"), "engagement-action engagement-delete-button", function (event) {
      openSlot(ui, deleteConfirm(ui), event.currentTarget);
    }, t("dy")));
    var left = Date.parse(entry.expires_at) - Date.now();
    // The buttons go when the window closes (timers cap at about 24.8 days; windows are shorter).
    if (left < 2147483647) {
      window.setTimeout(function () {
        endAuthorActions(ui);
      }, left);
    }
  }

  /** The window is over, the token is refused or the comment is gone: the author buttons and
   * a delete question go. An edit under way stays open with the reader's text, which is never
   * thrown away, and says why it can no longer be saved. Without an `error` (the window closed
   * on its own), nothing else is said. Returns the message shown. */
  function endAuthorActions(ui, error) {
    ui.main.querySelectorAll(".engagement-edit-button, .engagement-delete-button").forEach(function (node) {
      node.remove();
    });
    var edit = ui.slot.querySelector(".engagement-edit-form");
    if (edit) {
      edit.querySelector("[type=submit]").disabled = true;
      error = error || new ApiError(403, "edit_window_expired");
    } else if (ui.slot.querySelector(".engagement-delete-confirm")) closeSlot(ui);
    return error && showError(ui.thread, edit ? edit.region : ui.region, error);
  }

  function forgetIfRefused(ui, error) {
    if (!["edit_window_expired", "invalid_token", "not_found"].includes(error.reason)) return false;
    forget("edit:" + ui.comment.id);
    endAuthorActions(ui, error).focus();
    return true;
  }

  function editForm(ui) {
    var t = ui.thread.t;
    var entry = editToken(ui.comment.id) || {};
    var textarea = el("textarea", { name: "body", rows: 4, required: true, dir: "auto" });
    textarea.value = typeof entry.body === "string" ? entry.body : ui.body.textContent.trim();
    return authorForm(ui, {
      class: "engagement-edit-form", children: [field(textarea, [t("ey")])], submit: t("sv"), extra: [cancelButton(ui)],
      send: function (token) {
        return api("PATCH", "/comments/" + ui.comment.id, { body: textarea.value }, { "X-Edit-Token": token.token });
      },
      done: function (data, token) {
        token.body = textarea.value;
        save("edit:" + ui.comment.id, token);
        var fresh = fillMain(ui.thread, ui.main, data.comment);
        var held = data.status && data.status !== "approved";
        notice(fresh.region, t(held ? "ep" : "sd"), held ? "pending" : "success", true);
        if (held) recount(ui.thread);
      },
    });
  }

  function deleteConfirm(ui) {
    var t = ui.thread.t;
    return authorForm(ui, {
      class: "engagement-delete-confirm", label: t("dy"), children: [el("p", { text: t("dq") })],
      submit: t("d"), submitClass: "engagement-danger",
      extra: [button(t("kp"), "engagement-cancel", function () {
        closeSlot(ui, true);
      })],
      send: function (token) {
        return api("DELETE", "/comments/" + ui.comment.id, undefined, { "X-Edit-Token": token.token });
      },
      done: function () {
        forget("edit:" + ui.comment.id);
        var item = ui.main.parentNode;
        if (item.querySelector(".engagement-replies > .engagement-comment")) fillMain(ui.thread, ui.main, { deleted: true });
        else item.remove();
        setCount(ui.thread, ui.thread.count - 1);
        notice(ui.thread.region, t("dd"), "success", true);
      },
    });
  }

  /** A form that needs the comment's edit token, which may have expired meanwhile. */
  function authorForm(ui, options) {
    var token;
    var send = options.send, done = options.done;
    options.send = function () {
      token = editToken(ui.comment.id);
      return token ? send(token) : Promise.reject(new ApiError(403, "edit_window_expired"));
    };
    options.done = function (data) {
      done(data, token);
    };
    options.failed = function (error) {
      return forgetIfRefused(ui, error);
    };
    return makeForm(ui.thread, options);
  }

  // --- Flags --------------------------------------------------------------------------------

  function flagForm(ui) {
    var t = ui.thread.t;
    var reasons = { spam: t("f_spam"), abuse: t("f_abuse"), off_topic: t("f_off_topic"), other: t("f_other") };
    var select = el("select", { name: "reason" }, Object.keys(reasons).map(function (reason) {
      return el("option", { value: reason, text: reasons[reason] });
    }));
    return makeForm(ui.thread, {
      class: "engagement-flag-form", children: [field(select, [t("fq")])], submit: t("rr"), extra: [cancelButton(ui)],
      send: function () {
        return api("POST", "/comments/" + ui.comment.id + "/flags", { reason: select.value, note: null });
      },
      done: function (data) {
        closeSlot(ui);
        var flag = ui.actions.querySelector(".engagement-flag-button");
        flag.textContent = t("rd");
        flag.removeAttribute("aria-label");
        flag.disabled = true;
        // A flag that hid the comment takes it (and its replies) out of this thread as well.
        if (data.hidden) ui.main.parentNode.remove();
        notice(data.hidden ? ui.thread.region : ui.region, t("ft"), "success", true);
        recount(ui.thread);
      },
    });
  }

  // --- Preview: the common Markdown, built as elements (never as HTML) ---------------------

  function renderMarkdown(target, source, empty) {
    if (!source.trim()) return target.append(el("p", { class: "engagement-muted", text: empty }));
    var blocks = source.replace(/\r\n?/g, "\n").split(/\n```[^\n]*\n?|^```[^\n]*\n?/);
    blocks.forEach(function (block, index) {
      if (index % 2) return target.append(el("pre", {}, [el("code", { text: block.replace(/\n$/, "") })]));
      block.split(/\n{2,}/).forEach(function (paragraph) {
        if (paragraph.trim()) target.append(markdownBlock(paragraph));
      });
    });
  }

  function markdownBlock(text) {
    var lines = text.replace(/^\n+|\n+$/g, "").split("\n");
    if (lines.every(function (line) { return /^>/.test(line); })) {
      return el("blockquote", {}, [inline(el("p"), lines.map(function (line) { return line.replace(/^>\s?/, ""); }).join("\n"))]);
    }
    var bullet = /^\s*[-*+]\s+/, numbered = /^\s*\d+[.)]\s+/;
    var kind = lines.every(function (line) { return bullet.test(line); }) ? ["ul", bullet]
      : lines.every(function (line) { return numbered.test(line); }) ? ["ol", numbered] : null;
    if (kind) {
      return el(kind[0], {}, lines.map(function (line) { return inline(el("li"), line.replace(kind[1], "")); }));
    }
    return inline(el("p"), lines.join("\n"));
  }

  /** **strong**, *em* / _em_, `code` and [text](http link) inside a block. */
  function inline(node, text) {
    var pattern = /(\*\*|__)(.+?)\1|(\*|_)(.+?)\3|`([^`]+)`|\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)/;
    var match;
    while ((match = pattern.exec(text))) {
      if (match.index) node.append(text.slice(0, match.index));
      if (match[2]) node.append(inline(el("strong"), match[2]));
      else if (match[4]) node.append(inline(el("em"), match[4]));
      else if (match[5]) node.append(el("code", { text: match[5] }));
      else node.append(el("a", { href: match[7], rel: "nofollow ugc noopener", text: match[6] }));
      text = text.slice(match.index + match[0].length);
    }
    if (text) node.append(text);
    return node;
  }

  // --- Start ------------------------------------------------------------------------------------

  /** The stylesheet, adopted by the document; a browser without constructed stylesheets
   * (before 2023) links engagement.css instead. */
  function adoptStylesheet() {
    if (!document.adoptedStyleSheets) return document.head.append(el("link", { rel: "stylesheet", href: app.assets + "engagement.css" }));
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLESHEET);
    document.adoptedStyleSheets = document.adoptedStyleSheets.concat(sheet);
  }

  /** Fill every placeholder not filled yet (call again after adding placeholders); parts that
   * could not reach the service try again. */
  function refresh() {
    var fresh = [];
    document.querySelectorAll(".engagement-count[data-article], .engagement-shares, .engagement-comments, " +
      ".engagement-newsletter, .engagement-trending").forEach(function (node) {
      if (node.hasAttribute("data-engagement-ready")) return;
      node.setAttribute("data-engagement-ready", "");
      fresh.push(node);
    });
    return Promise.all(fresh.map(function (node) {
      return loadLanguage(languageOf(node)).then(function (lang) {
        node.engagementLanguage = lang;
      });
    })).then(function () {
      fillCounts(fresh.filter(function (node) {
        return node.classList.contains("engagement-count");
      }));
      fresh.forEach(function (node) {
        var kind = /engagement-(shares|comments|newsletter|trending)/.exec(node.className);
        if (kind) ({ shares: fillShares, comments: fillComments, newsletter: fillNewsletter, trending: fillTrending })[kind[1]](node);
      });
      retryAll();
    });
  }

  function start() {
    purgeExpiredTokens();
    adoptStylesheet();
    refresh();
  }

  window.Engagement = { base: app.base, script: loader, refresh: refresh };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
