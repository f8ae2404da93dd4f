/*
 * engagement widget: comments, share buttons, comment counts and the newsletter signup for a
 * news site's pages, from one script tag (API.md, "The embeddable widget").
 *
 *   <span class="engagement-count" data-article="SLUG"></span>
 *   <div class="engagement-shares" data-article="SLUG" data-url="URL" data-title="TITLE"></div>
 *   <div class="engagement-comments" data-article="SLUG"></div>
 *   <div class="engagement-newsletter" data-source="sidebar"></div>
 *   <script src="https://SERVICE/widget/engagement.js" async></script>
 *
 * Plain JavaScript, no framework and no build step. It finds the service from its own src,
 * sets no cookies (every request omits credentials), and keeps only the author's edit tokens,
 * in localStorage. Only body_html, which the service sanitises, is inserted as HTML; every
 * other value is set as text.
 */
(function () {
  "use strict";

  var SCRIPT_PATH = "/widget/engagement.js";
  // Article ids: unreserved URL characters and percent-encoded bytes (or the letters they
  // encode); encodeURIComponent puts them in a URL, the service checks the rest.
  var SLUG = /^(?:[A-Za-z0-9]|%[0-9A-Fa-f]{2}|[^\x00-\x7f])(?:[A-Za-z0-9._~-]|%[0-9A-Fa-f]{2}|[^\x00-\x7f]){0,199}$/;
  var COUNT_CHUNK = 100;
  var PAGE_SIZE = 20;
  var TOKEN_PREFIX = "engagement:edit:";
  var LAST_WRITE_KEY = "engagement:last-write";
  // After a write, reads revalidate (no-cache) for this long, so a reader who reloads the page
  // sees their own change at once instead of a copy cached for max-age.
  var REVALIDATE_AFTER_WRITE_MS = 10 * 60 * 1000;

  var NETWORKS = {
    facebook: { label: "Facebook", href: "https://www.facebook.com/sharer/sharer.php?u={url}" },
    x: { label: "X", href: "https://x.com/intent/post?url={url}&text={title}" },
    whatsapp: { label: "WhatsApp", href: "https://wa.me/?text={title}%20{url}" },
    linkedin: { label: "LinkedIn", href: "https://www.linkedin.com/sharing/share-offsite/?url={url}" },
    reddit: { label: "Reddit", href: "https://www.reddit.com/submit?url={url}&title={title}" },
    pinterest: {
      label: "Pinterest", href: "https://www.pinterest.com/pin/create/button/?url={url}&description={title}",
    },
    tumblr: {
      label: "Tumblr", href: "https://www.tumblr.com/widgets/share/tool?canonicalUrl={url}&title={title}",
    },
    telegram: { label: "Telegram", href: "https://t.me/share/url?url={url}&text={title}" },
    email: { label: "Email", href: "mailto:?subject={title}&body={url}", mail: true },
    copy_link: { label: "Copy link", copy: true },
  };
  var NETWORK_ORDER = Object.keys(NETWORKS);

  var FIELD_LABELS = {
    author_name: "Name",
    author_email: "Email",
    author_website: "Website",
    body: "Comment",
    parent_id: "Reply",
    email: "Email",
    name: "Name",
    consent: "Consent",
    source: "Source",
    reason: "Reason",
    note: "Note",
    network: "Network",
    ids: "Articles",
    cursor: "Page",
    limit: "Page size",
    order: "Order",
    "X-Edit-Token": "Edit token",
    _schema: "",
  };

  var FLAG_REASONS = [
    ["spam", "Spam"],
    ["abuse", "Abuse or harassment"],
    ["off_topic", "Off topic"],
    ["other", "Something else"],
  ];

  // --- Where the service is -----------------------------------------------------------------

  var script = document.currentScript || findOwnScript();
  if (!script || !script.src) return;
  var scriptUrl = new URL(script.src, document.baseURI);
  var base = serviceBase(scriptUrl);

  function findOwnScript() {
    var scripts = document.getElementsByTagName("script");
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (scripts[i].src && scripts[i].src.indexOf(SCRIPT_PATH) !== -1) return scripts[i];
    }
    return null;
  }

  function serviceBase(url) {
    var path = url.pathname;
    var at = path.lastIndexOf(SCRIPT_PATH);
    // Served under another name (a proxy's rewrite): the service is two levels up.
    var prefix = at >= 0 ? path.slice(0, at) : path.replace(/\/[^/]*\/[^/]*$/, "");
    return url.origin + prefix;
  }

  // --- Small tools ---------------------------------------------------------------------------

  var uid = 0;
  function nextId(name) {
    uid += 1;
    return "engagement-" + name + "-" + uid;
  }

  /** An element with attributes, and children that are elements or text (never HTML). */
  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    if (attributes) {
      Object.keys(attributes).forEach(function (key) {
        var value = attributes[key];
        if (value === null || value === undefined || value === false) return;
        if (key === "text") node.textContent = value;
        else node.setAttribute(key, value === true ? "" : String(value));
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function plural(count, one, many) {
    return count === 1 ? "1 " + one : count + " " + many;
  }

  function commentsText(count) {
    return count === 0 ? "No Comments" : plural(count, "Comment", "Comments");
  }

  var storage = (function () {
    try {
      var probe = "engagement:probe";
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (error) {
      return null; // storage disabled: the widget works, the author just cannot edit later
    }
  })();

  function load(key) {
    if (!storage) return null;
    try {
      return JSON.parse(storage.getItem(key));
    } catch (error) {
      return null;
    }
  }

  function save(key, value) {
    if (!storage) return;
    try {
      storage.setItem(key, JSON.stringify(value));
    } catch (error) {
      /* full or forbidden: nothing to keep */
    }
  }

  function forget(key) {
    if (storage) storage.removeItem(key);
  }

  // --- Edit tokens: localStorage, keyed by comment id, with their expiry --------------------

  var tokens = {
    get: function (commentId) {
      var entry = load(TOKEN_PREFIX + commentId);
      if (!entry || typeof entry.token !== "string") return null;
      if (!(Date.parse(entry.expires_at) > Date.now())) {
        forget(TOKEN_PREFIX + commentId);
        return null;
      }
      return entry;
    },
    keep: function (commentId, entry) {
      save(TOKEN_PREFIX + commentId, entry);
    },
    drop: function (commentId) {
      forget(TOKEN_PREFIX + commentId);
    },
    purgeExpired: function () {
      if (!storage) return;
      var keys = [];
      for (var i = 0; i < storage.length; i++) {
        var key = storage.key(i);
        if (key && key.indexOf(TOKEN_PREFIX) === 0) keys.push(key);
      }
      keys.forEach(function (key) {
        tokens.get(key.slice(TOKEN_PREFIX.length));
      });
    },
  };

  // --- The API -------------------------------------------------------------------------------

  function ApiError(text, details, status, reason) {
    this.text = text;
    this.details = details || [];
    this.status = status || 0;
    this.reason = reason || null;
  }

  function recentlyWrote() {
    var at = load(LAST_WRITE_KEY);
    return typeof at === "number" && Date.now() - at < REVALIDATE_AFTER_WRITE_MS;
  }

  /** One call to the public API; resolves with the JSON answer, rejects with an ApiError. */
  function api(method, path, options) {
    options = options || {};
    var init = { method: method, mode: "cors", credentials: "omit", headers: {} };
    if (options.body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    Object.keys(options.headers || {}).forEach(function (name) {
      init.headers[name] = options.headers[name];
    });
    if (method === "GET" && recentlyWrote()) init.cache = "no-cache";
    return fetch(base + "/api/v1" + path, init).then(
      function (response) {
        if (method !== "GET" && response.ok) save(LAST_WRITE_KEY, Date.now());
        if (response.status === 204) return null;
        return response.text().then(function (text) {
          var data = null;
          try {
            data = text ? JSON.parse(text) : null;
          } catch (error) {
            data = null;
          }
          if (!response.ok) throw describeError(response, data);
          return data;
        });
      },
      function () {
        throw new ApiError(
          "The service could not be reached. Please check your connection and try again."
        );
      }
    );
  }

  /** The API's error envelope in words: its message, and each field's messages. */
  function describeError(response, data) {
    if (!data || typeof data.message !== "string") {
      return new ApiError(
        "The service answered with an error (" + response.status + " " + response.statusText +
          "). Please try again later.", [], response.status
      );
    }
    var text = data.message;
    if (data.reason === "rate_limited" || response.status === 429) {
      var wait = parseInt(response.headers.get("Retry-After"), 10);
      text = "Too many requests (" + data.message + ")." +
        (wait > 0 ? " Please try again in " + waitText(wait) + "." : " Please try again later.");
    }
    return new ApiError(text, fieldMessages(data.errors), response.status, data.reason);
  }

  function waitText(seconds) {
    if (seconds < 90) return plural(seconds, "second", "seconds");
    var minutes = Math.ceil(seconds / 60);
    return plural(minutes, "minute", "minutes");
  }

  function fieldMessages(errors) {
    var lines = [];
    function walk(value, field) {
      if (typeof value === "string") {
        var label = field in FIELD_LABELS ? FIELD_LABELS[field] : field.replace(/_/g, " ");
        lines.push(label ? label + ": " + value : value);
      } else if (Array.isArray(value)) {
        value.forEach(function (item) {
          walk(item, field);
        });
      } else if (value && typeof value === "object") {
        Object.keys(value).forEach(function (key) {
          walk(value[key], /^\d+$/.test(key) ? field : key);
        });
      }
    }
    if (errors && typeof errors === "object") {
      Object.keys(errors).forEach(function (location) {
        walk(errors[location], "");
      });
    }
    // In the order the form shows its fields.
    var order = Object.keys(FIELD_LABELS).map(function (field) {
      return FIELD_LABELS[field] + ": ";
    });
    function rank(line) {
      for (var i = 0; i < order.length; i++) if (order[i] !== ": " && line.indexOf(order[i]) === 0) return i;
      return order.length;
    }
    return lines.sort(function (a, b) {
      return rank(a) - rank(b);
    });
  }

  function asApiError(error) {
    if (error instanceof ApiError) return error;
    if (window.console) window.console.error(error);
    return new ApiError("Something went wrong in the comment widget. Please reload the page.");
  }

  // --- Notices: a live region per part, for errors and confirmations -----------------------

  function statusRegion() {
    return el("div", { class: "engagement-status", "aria-live": "polite" });
  }

  function showNotice(region, text, kind) {
    region.textContent = "";
    region.appendChild(el("p", { class: "engagement-notice engagement-" + (kind || "info"), text: text }));
  }

  function showError(region, error) {
    error = asApiError(error);
    region.textContent = "";
    var box = el("div", { class: "engagement-error", role: "alert" }, [
      el("p", { class: "engagement-error-message", text: error.text }),
    ]);
    if (error.details.length) {
      box.appendChild(el("ul", { class: "engagement-error-fields" }, error.details.map(function (line) {
        return el("li", { text: line });
      })));
    }
    region.appendChild(box);
  }

  function clearStatus(region) {
    region.textContent = "";
  }

  function busy(button, on) {
    button.disabled = on;
    if (on) button.setAttribute("aria-busy", "true");
    else button.removeAttribute("aria-busy");
  }

  // --- Articles, fetched once per page and shared by the parts that need them --------------

  var articles = {};
  function article(slug) {
    if (!articles[slug]) {
      articles[slug] = api("GET", "/articles/" + encodeURIComponent(slug));
      articles[slug].catch(function () {
        delete articles[slug]; // a later attempt may succeed
      });
    }
    return articles[slug];
  }

  function badSlug() {
    return new ApiError("This widget has no valid article id (data-article).");
  }

  // --- Comment counts: every span on the page, one /counts request per 100 articles --------

  function fillCounts(spans) {
    var bySlug = {};
    spans.forEach(function (span) {
      var slug = span.getAttribute("data-article") || "";
      if (!SLUG.test(slug)) {
        span.textContent = badSlug().text;
        span.classList.add("engagement-count-error");
        return;
      }
      (bySlug[slug] = bySlug[slug] || []).push(span);
    });
    var slugs = Object.keys(bySlug);
    for (var start = 0; start < slugs.length; start += COUNT_CHUNK) {
      fetchCounts(slugs.slice(start, start + COUNT_CHUNK), bySlug);
    }
  }

  function fetchCounts(slugs, bySlug) {
    var query = slugs.map(encodeURIComponent).join(",");
    api("GET", "/counts?ids=" + query).then(
      function (data) {
        slugs.forEach(function (slug) {
          var counts = (data && data.counts && data.counts[slug]) || { comments: 0 };
          bySlug[slug].forEach(function (span) {
            span.textContent = commentsText(counts.comments);
            span.classList.remove("engagement-count-error");
          });
        });
      },
      function (error) {
        error = asApiError(error);
        var text = [error.text].concat(error.details).join(" ");
        slugs.forEach(function (slug) {
          bySlug[slug].forEach(function (span) {
            span.textContent = text;
            span.classList.add("engagement-count-error");
          });
        });
      }
    );
  }

  /** After the reader's own post or delete, the page's count spans for the article follow. */
  function updateCountSpans(slug, count) {
    var spans = document.querySelectorAll(".engagement-count[data-article]");
    Array.prototype.forEach.call(spans, function (span) {
      if (span.getAttribute("data-article") === slug) span.textContent = commentsText(count);
    });
  }

  // --- Share buttons ---------------------------------------------------------------------------

  function canonicalUrl() {
    var link = document.querySelector('link[rel="canonical"]');
    return (link && link.href) || window.location.href;
  }

  function fillShares(root) {
    var slug = root.getAttribute("data-article") || "";
    var region = statusRegion();
    var list = el("ul", { class: "engagement-share-list" });
    root.textContent = "";
    root.appendChild(el("div", { class: "engagement-shares-inner" }, [list, region]));
    if (!SLUG.test(slug)) return showError(region, badSlug());

    var wanted = (root.getAttribute("data-networks") || "").split(",").map(function (name) {
      return name.trim();
    }).filter(Boolean);
    var buttons = {};

    function setCounts(shareCounts) {
      Object.keys(buttons).forEach(function (network) {
        var count = shareCounts[network] || 0;
        var button = buttons[network];
        button.querySelector(".engagement-share-count").textContent = String(count);
        button.setAttribute("aria-label", "Share on " + networkLabel(network) + " (" +
          plural(count, "share", "shares") + ")");
      });
    }

    article(slug).then(
      function (data) {
        var shareCounts = data.share_counts || {};
        orderedNetworks(shareCounts, wanted).forEach(function (network) {
          var button = el("button", {
            type: "button",
            class: "engagement-share-button engagement-share-" + network.replace(/[^a-z0-9_-]/gi, ""),
            "data-network": network,
          }, [
            el("span", { class: "engagement-share-name", text: networkLabel(network) }),
            el("span", { class: "engagement-share-count", text: "0" }),
          ]);
          button.addEventListener("click", function () {
            share(network);
          });
          buttons[network] = button;
          list.appendChild(el("li", { class: "engagement-share-item" }, [button]));
        });
        setCounts(shareCounts);
      },
      function (error) {
        showError(region, error);
      }
    );

    function share(network) {
      var url = root.getAttribute("data-url") || canonicalUrl();
      var title = root.getAttribute("data-title") || document.title;
      var known = NETWORKS[network];
      clearStatus(region);
      // Opened within the click, before any await, so that popup blockers let it through.
      if (known && known.copy) copyLink(url, region);
      else if (known && known.mail) window.location.href = shareHref(known.href, url, title);
      else if (known) {
        window.open(shareHref(known.href, url, title), "_blank",
          "noopener,noreferrer,width=640,height=560");
      }
      var button = buttons[network];
      busy(button, true);
      api("POST", "/articles/" + encodeURIComponent(slug) + "/shares", { body: { network: network } })
        .then(function (data) {
          setCounts(data.share_counts || {});
        }, function (error) {
          showError(region, error);
        })
        .then(function () {
          busy(button, false);
        });
    }
  }

  function orderedNetworks(shareCounts, wanted) {
    var present = Object.keys(shareCounts).filter(function (name) {
      return name !== "total" && (!wanted.length || wanted.indexOf(name) !== -1);
    });
    return present.sort(function (a, b) {
      var ia = NETWORK_ORDER.indexOf(a), ib = NETWORK_ORDER.indexOf(b);
      if (ia === -1) ia = NETWORK_ORDER.length;
      if (ib === -1) ib = NETWORK_ORDER.length;
      return ia - ib || (a < b ? -1 : a > b ? 1 : 0);
    });
  }

  function networkLabel(network) {
    var known = NETWORKS[network];
    if (known) return known.label;
    return network.charAt(0).toUpperCase() + network.slice(1).replace(/_/g, " ");
  }

  function shareHref(template, url, title) {
    return template.replace(/\{url\}/g, encodeURIComponent(url))
      .replace(/\{title\}/g, encodeURIComponent(title));
  }

  function copyLink(url, region) {
    function fallback() {
      showNotice(region, "Copy this link: " + url);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(url).then(function () {
        showNotice(region, "Link copied.", "success");
      }, fallback);
    } else {
      fallback();
    }
  }

  // --- Comments --------------------------------------------------------------------------------

  function fillComments(root) {
    var slug = root.getAttribute("data-article") || "";
    var order = root.getAttribute("data-order") === "newest" ? "newest" : "oldest";
    var title = el("h2", { class: "engagement-comments-title", text: "Comments" });
    var threadRegion = statusRegion();
    var list = el("ol", { class: "engagement-thread" });
    var more = el("button", { type: "button", class: "engagement-more", hidden: true, text: "Load more comments" });
    var formSlot = el("div", { class: "engagement-form-slot" });
    var loading = el("p", { class: "engagement-loading", text: "Loading comments…" });
    var state = { count: 0, open: false, cursor: null, author: { name: "", email: "" } };

    root.textContent = "";
    root.setAttribute("aria-busy", "true");
    root.appendChild(el("section", { class: "engagement-comments-inner", "aria-label": "Comments" }, [
      title, threadRegion, loading, list, more, formSlot,
    ]));
    if (!SLUG.test(slug)) {
      loading.remove();
      root.removeAttribute("aria-busy");
      return showError(threadRegion, badSlug());
    }
    var path = "/articles/" + encodeURIComponent(slug) + "/comments";

    Promise.all([article(slug), api("GET", path + "?order=" + order + "&limit=" + PAGE_SIZE)]).then(
      function (answers) {
        var info = answers[0], page = answers[1];
        state.open = info.comments_open !== false;
        setCount(info.comment_count || 0);
        addPage(page);
        formSlot.appendChild(state.open ? commentForm(null) : closedNotice());
      },
      function (error) {
        showError(threadRegion, error);
      }
    ).then(function () {
      loading.remove();
      root.removeAttribute("aria-busy");
    });

    more.addEventListener("click", function () {
      busy(more, true);
      api("GET", path + "?order=" + order + "&limit=" + PAGE_SIZE + "&cursor=" + encodeURIComponent(state.cursor))
        .then(addPage, function (error) {
          showError(threadRegion, error);
        })
        .then(function () {
          busy(more, false);
        });
    });

    function setCount(count) {
      state.count = Math.max(0, count);
      title.textContent = commentsText(state.count);
    }

    function addPage(page) {
      (page.items || []).forEach(function (comment) {
        // A comment the reader posted since may come again on a later page.
        if (!list.querySelector('[data-comment-id="' + comment.id + '"]')) {
          list.appendChild(renderComment(comment));
        }
      });
      state.cursor = page.next_cursor || null;
      more.hidden = !state.cursor;
    }

    function closedNotice() {
      return el("p", { class: "engagement-closed", text: "Comments are closed." });
    }

    function closeComments() {
      state.open = false;
      formSlot.textContent = "";
      formSlot.appendChild(closedNotice());
      Array.prototype.forEach.call(root.querySelectorAll(".engagement-reply-button, .engagement-reply-form"),
        function (node) {
          node.remove();
        });
    }

    // -- One comment, its actions and its replies

    function renderComment(comment) {
      var item = el("li", {
        class: "engagement-comment" + (comment.pinned ? " engagement-comment-pinned" : ""),
        id: "engagement-comment-" + comment.id,
        "data-comment-id": comment.id,
      });
      var main = el("article", { class: "engagement-comment-main" });
      var replies = el("ol", { class: "engagement-replies" });
      item.appendChild(main);
      item.appendChild(replies);
      fillMain(main, comment);
      (comment.replies || []).forEach(function (reply) {
        replies.appendChild(renderComment(reply));
      });
      return item;
    }

    function fillMain(main, comment) {
      main.textContent = "";
      if (comment.deleted) {
        main.classList.add("engagement-comment-deleted");
        main.appendChild(el("p", { class: "engagement-deleted", text: "This comment was deleted." }));
        return null;
      }
      var when = new Date(comment.created_at);
      var header = el("header", { class: "engagement-comment-header" }, [
        avatar(comment),
        authorName(comment),
        el("time", { class: "engagement-date", datetime: comment.created_at, text: formatDate(when) }),
        comment.edited_at ? el("span", { class: "engagement-edited", text: "(edited)" }) : null,
        comment.pinned ? el("span", { class: "engagement-pinned-badge", text: "Pinned" }) : null,
      ]);
      var body = el("div", { class: "engagement-body" });
      body.innerHTML = comment.body_html; // sanitised by the service against an allow-list
      var actions = el("div", { class: "engagement-actions" });
      var slot = el("div", { class: "engagement-slot" });
      var region = statusRegion();
      main.appendChild(header);
      main.appendChild(body);
      main.appendChild(actions);
      main.appendChild(region);
      main.appendChild(slot);

      var ui = { comment: comment, main: main, body: body, actions: actions, slot: slot, region: region };
      if (state.open) actions.appendChild(actionButton("Reply", "engagement-reply-button", function () {
        openSlot(ui, commentForm(ui));
      }));
      actions.appendChild(actionButton("Flag", "engagement-flag-button", function () {
        openSlot(ui, flagForm(ui));
      }));
      var entry = tokens.get(comment.id);
      if (entry) addAuthorButtons(ui, entry);
      return ui;
    }

    function actionButton(text, className, onClick) {
      var button = el("button", { type: "button", class: "engagement-action " + className, text: text });
      button.addEventListener("click", onClick);
      return button;
    }

    function openSlot(ui, content) {
      // One open form at a time in the thread.
      Array.prototype.forEach.call(list.querySelectorAll(".engagement-slot"), function (slot) {
        slot.textContent = "";
      });
      clearStatus(ui.region);
      ui.slot.appendChild(content);
      var first = content.querySelector("textarea, input:not([type=hidden]), select, button");
      if (first) first.focus();
    }

    function closeSlot(ui) {
      ui.slot.textContent = "";
    }

    // -- The author's edit and delete, while the edit window lasts

    function addAuthorButtons(ui, entry) {
      var edit = actionButton("Edit", "engagement-edit-button", function () {
        openSlot(ui, editForm(ui));
      });
      var remove = actionButton("Delete", "engagement-delete-button", function () {
        openSlot(ui, deleteConfirm(ui));
      });
      var flag = ui.actions.querySelector(".engagement-flag-button");
      ui.actions.insertBefore(edit, flag);
      ui.actions.insertBefore(remove, flag);
      var left = Date.parse(entry.expires_at) - Date.now();
      // The buttons go when the window closes (timers cap at about 24.8 days; windows are shorter).
      if (left < 2147483647) {
        window.setTimeout(function () {
          removeAuthorButtons(ui);
        }, left);
      }
    }

    function removeAuthorButtons(ui) {
      Array.prototype.forEach.call(
        ui.main.querySelectorAll(".engagement-edit-button, .engagement-delete-button"),
        function (button) {
          button.remove();
        }
      );
      var open = ui.slot.querySelector(".engagement-edit-form, .engagement-delete-confirm");
      if (open) closeSlot(ui);
    }

    function editForm(ui) {
      var entry = tokens.get(ui.comment.id) || {};
      var id = nextId("edit");
      var textarea = el("textarea", { id: id, name: "body", rows: 4, class: "engagement-input" });
      textarea.value = typeof entry.body === "string" ? entry.body : ui.body.textContent.trim();
      var save = el("button", { type: "submit", class: "engagement-submit", text: "Save" });
      var cancel = el("button", { type: "button", class: "engagement-cancel", text: "Cancel" });
      var region = statusRegion();
      var form = el("form", { class: "engagement-edit-form", novalidate: true }, [
        el("div", { class: "engagement-field" }, [
          el("label", { for: id, text: "Edit your comment" }), textarea,
        ]),
        el("div", { class: "engagement-form-actions" }, [save, cancel]),
        region,
      ]);
      cancel.addEventListener("click", function () {
        closeSlot(ui);
      });
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var current = tokens.get(ui.comment.id);
        if (!current) {
          removeAuthorButtons(ui);
          return showError(ui.region, new ApiError("The time to edit this comment is over."));
        }
        busy(save, true);
        api("PATCH", "/comments/" + ui.comment.id, {
          body: { body: textarea.value },
          headers: { "X-Edit-Token": current.token },
        }).then(function (data) {
          current.body = textarea.value;
          tokens.keep(ui.comment.id, current);
          // The replies live beside this part of the comment and stay as they are.
          var fresh = fillMain(ui.main, data.comment);
          showNotice(fresh.region, "Your changes are saved.", "success");
        }, function (error) {
          busy(save, false);
          if (!forgetIfRefused(ui, error)) showError(region, error);
        });
      });
      return form;
    }

    /** The window is over, the token is refused or the comment is gone: the author buttons
     * go, and the reason is shown on the comment. */
    function forgetIfRefused(ui, error) {
      var reason = error instanceof ApiError ? error.reason : null;
      if (reason !== "edit_window_expired" && reason !== "invalid_token" && reason !== "not_found") {
        return false;
      }
      tokens.drop(ui.comment.id);
      removeAuthorButtons(ui);
      showError(ui.region, error);
      return true;
    }

    function deleteConfirm(ui) {
      var yes = el("button", { type: "button", class: "engagement-danger", text: "Delete" });
      var no = el("button", { type: "button", class: "engagement-cancel", text: "Keep it" });
      var region = statusRegion();
      var box = el("div", { class: "engagement-delete-confirm", role: "group", "aria-label": "Delete comment" }, [
        el("p", { text: "Delete this comment? This cannot be undone." }),
        el("div", { class: "engagement-form-actions" }, [yes, no]),
        region,
      ]);
      no.addEventListener("click", function () {
        closeSlot(ui);
      });
      yes.addEventListener("click", function () {
        var current = tokens.get(ui.comment.id);
        if (!current) {
          removeAuthorButtons(ui);
          return showError(ui.region, new ApiError("The time to delete this comment is over."));
        }
        busy(yes, true);
        api("DELETE", "/comments/" + ui.comment.id, { headers: { "X-Edit-Token": current.token } }).then(
          function () {
            tokens.drop(ui.comment.id);
            var item = ui.main.parentNode;
            var hasReplies = item.querySelector(".engagement-replies > .engagement-comment");
            if (hasReplies) {
              fillMain(ui.main, { id: ui.comment.id, deleted: true });
            } else {
              item.remove();
            }
            setCount(state.count - 1);
            updateCountSpans(slug, state.count);
            showNotice(threadRegion, "Your comment was deleted.", "success");
          },
          function (error) {
            busy(yes, false);
            if (!forgetIfRefused(ui, error)) showError(region, error);
          }
        );
      });
      return box;
    }

    // -- Flags

    function flagForm(ui) {
      var id = nextId("flag");
      var select = el("select", { id: id, name: "reason", class: "engagement-input" },
        FLAG_REASONS.map(function (pair) {
          return el("option", { value: pair[0], text: pair[1] });
        }));
      var send = el("button", { type: "submit", class: "engagement-submit", text: "Report" });
      var cancel = el("button", { type: "button", class: "engagement-cancel", text: "Cancel" });
      var region = statusRegion();
      var form = el("form", { class: "engagement-flag-form", novalidate: true }, [
        el("div", { class: "engagement-field" }, [
          el("label", { for: id, text: "Why should a moderator look at this comment?" }), select,
        ]),
        el("div", { class: "engagement-form-actions" }, [send, cancel]),
        region,
      ]);
      cancel.addEventListener("click", function () {
        closeSlot(ui);
      });
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        busy(send, true);
        api("POST", "/comments/" + ui.comment.id + "/flags", { body: { reason: select.value, note: null } })
          .then(function () {
            closeSlot(ui);
            var flag = ui.actions.querySelector(".engagement-flag-button");
            if (flag) {
              flag.textContent = "Reported";
              flag.disabled = true;
            }
            showNotice(ui.region, "Thank you. A moderator will look at this comment.", "success");
          }, function (error) {
            busy(send, false);
            showError(region, error);
          });
      });
      return form;
    }

    // -- Posting: the form under the thread, and reply forms under comments

    function commentForm(parentUi) {
      var reply = Boolean(parentUi);
      var ids = { name: nextId("name"), email: nextId("email"), body: nextId("body"), hp: nextId("hp") };
      var name = el("input", {
        id: ids.name, name: "author_name", type: "text", autocomplete: "name", maxlength: 80,
        class: "engagement-input",
      });
      var email = el("input", {
        id: ids.email, name: "author_email", type: "email", autocomplete: "email", class: "engagement-input",
      });
      var body = el("textarea", { id: ids.body, name: "body", rows: reply ? 3 : 5, class: "engagement-input" });
      // The honeypot: hidden from readers (and from autofill), so only a bot fills it.
      var honeypot = el("input", { id: ids.hp, name: "website_url", type: "text", tabindex: "-1", autocomplete: "off" });
      name.value = state.author.name;
      email.value = state.author.email;
      var submit = el("button", {
        type: "submit", class: "engagement-submit", text: reply ? "Post reply" : "Post comment",
      });
      var region = statusRegion();
      var heading = reply
        ? "Reply to " + (parentUi.comment.author_name || "this comment")
        : "Leave a comment";
      var form = el("form", {
        class: "engagement-form" + (reply ? " engagement-reply-form" : ""), novalidate: true,
      }, [
        el("p", { class: "engagement-form-title", text: heading }),
        el("div", { class: "engagement-field" }, [el("label", { for: ids.name, text: "Name" }), name]),
        el("div", { class: "engagement-field" }, [
          el("label", { for: ids.email }, ["Email ", el("span", { class: "engagement-hint", text: "(never shown)" })]),
          email,
        ]),
        el("div", { class: "engagement-field" }, [
          el("label", { for: ids.body, text: reply ? "Your reply" : "Comment" }), body,
          el("p", { class: "engagement-hint", text: "Markdown is allowed." }),
        ]),
        el("div", { class: "engagement-hp", hidden: true, "aria-hidden": "true" }, [
          el("label", { for: ids.hp, text: "Leave this field empty" }), honeypot,
        ]),
        el("div", { class: "engagement-form-actions" }, [submit, reply ? cancelButton(parentUi) : null]),
        region,
      ]);

      form.addEventListener("submit", function (event) {
        event.preventDefault();
        state.author = { name: name.value, email: email.value };
        var fields = {
          author_name: name.value,
          author_email: email.value,
          body: body.value,
          parent_id: reply ? parentUi.comment.id : null,
        };
        if (honeypot.value) fields.website_url = honeypot.value;
        busy(submit, true);
        clearStatus(region);
        api("POST", "/articles/" + encodeURIComponent(slug) + "/comments", { body: fields }).then(
          function (data) {
            busy(submit, false);
            posted(data, fields.body, parentUi, region);
            body.value = "";
          },
          function (error) {
            busy(submit, false);
            if (error instanceof ApiError && error.reason === "comments_closed") {
              closeComments();
              showError(threadRegion, error);
            } else {
              showError(region, error);
            }
          }
        );
      });
      return form;
    }

    function cancelButton(ui) {
      var button = el("button", { type: "button", class: "engagement-cancel", text: "Cancel" });
      button.addEventListener("click", function () {
        closeSlot(ui);
      });
      return button;
    }

    function posted(data, source, parentUi, formRegion) {
      var comment = data.comment;
      tokens.keep(comment.id, {
        token: data.edit_token,
        expires_at: data.edit_expires_at,
        article: slug,
        body: source,
      });
      var noticeRegion = parentUi ? parentUi.region : formRegion;
      if (parentUi) closeSlot(parentUi);
      if (data.status !== "approved") {
        showNotice(noticeRegion,
          "Thank you! Your comment is awaiting moderation and will appear once a moderator approves it.",
          "pending");
        return;
      }
      var item = renderComment(comment);
      if (parentUi) {
        var under = list.querySelector('[data-comment-id="' + comment.parent_id + '"]') ||
          parentUi.main.parentNode;
        under.querySelector(":scope > .engagement-replies").appendChild(item);
      } else if (order === "newest") {
        list.insertBefore(item, list.querySelector(":scope > .engagement-comment:not(.engagement-comment-pinned)"));
      } else {
        list.appendChild(item);
      }
      setCount(state.count + 1);
      updateCountSpans(slug, state.count);
      showNotice(noticeRegion, parentUi ? "Your reply is published." : "Your comment is published.", "success");
      item.querySelector(".engagement-comment-main").classList.add("engagement-comment-new");
    }
  }

  function avatar(comment) {
    var name = comment.author_name || "?";
    // The avatar is a keyed hash (hex): its first digits pick the colour.
    var seed = comment.avatar || name;
    var hash = /^[0-9a-f]{6}/i.test(seed) ? parseInt(seed.slice(0, 6), 16) : 0;
    if (!hash) for (var i = 0; i < seed.length; i++) hash = (hash * 31 + seed.charCodeAt(i)) >>> 0;
    var node = el("span", { class: "engagement-avatar", "aria-hidden": "true", text: Array.from(name.trim() || "?")[0].toUpperCase() });
    node.style.backgroundColor = "hsl(" + (hash % 360) + ", 45%, 45%)";
    return node;
  }

  function authorName(comment) {
    var name = comment.author_name || "Anonymous";
    var website = comment.author_website;
    if (website && /^https?:\/\//i.test(website)) {
      return el("a", {
        class: "engagement-author", href: website, rel: "nofollow ugc noopener noreferrer", target: "_blank", text: name,
      });
    }
    return el("span", { class: "engagement-author", text: name });
  }

  var dateFormat = (function () {
    try {
      return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
    } catch (error) {
      return null;
    }
  })();

  function formatDate(date) {
    if (isNaN(date.getTime())) return "";
    return dateFormat ? dateFormat.format(date) : date.toLocaleString();
  }

  // --- Newsletter signup --------------------------------------------------------------------

  function fillNewsletter(root) {
    var source = root.getAttribute("data-source") || null;
    var ids = { email: nextId("newsletter-email"), consent: nextId("newsletter-consent") };
    var email = el("input", {
      id: ids.email, name: "email", type: "email", autocomplete: "email", class: "engagement-input",
    });
    var consent = el("input", { id: ids.consent, name: "consent", type: "checkbox", class: "engagement-checkbox" });
    var submit = el("button", { type: "submit", class: "engagement-submit", text: "Subscribe" });
    var region = statusRegion();
    var form = el("form", { class: "engagement-newsletter-form", novalidate: true }, [
      el("p", { class: "engagement-form-title", text: root.getAttribute("data-heading") || "Stay in touch" }),
      el("div", { class: "engagement-field" }, [el("label", { for: ids.email, text: "Email" }), email]),
      el("div", { class: "engagement-consent" }, [
        consent,
        el("label", {
          for: ids.consent,
          text: "Yes, send me the newsletter by email. I can unsubscribe at any time.",
        }),
      ]),
      el("div", { class: "engagement-form-actions" }, [submit]),
    ]);
    root.textContent = "";
    root.appendChild(el("div", { class: "engagement-newsletter-inner" }, [form, region]));

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      busy(submit, true);
      clearStatus(region);
      api("POST", "/newsletter/subscriptions", {
        body: { email: email.value, name: null, source: source, consent: consent.checked },
      }).then(function () {
        form.remove();
        showNotice(region, "Check your inbox to confirm.", "success");
      }, function (error) {
        busy(submit, false);
        showError(region, error);
      });
    });
  }

  // --- Start ------------------------------------------------------------------------------------

  function loadStylesheet() {
    var href = base + "/widget/engagement.css" + scriptUrl.search;
    var links = document.querySelectorAll('link[rel="stylesheet"]');
    for (var i = 0; i < links.length; i++) if (links[i].href === href) return;
    document.head.appendChild(el("link", { rel: "stylesheet", href: href }));
  }

  /** Fill every placeholder not filled yet (call again after adding placeholders). */
  function fillAll() {
    function fresh(selector) {
      return Array.prototype.filter.call(document.querySelectorAll(selector), function (node) {
        if (node.hasAttribute("data-engagement-ready")) return false;
        node.setAttribute("data-engagement-ready", "");
        return true;
      });
    }
    var counts = fresh(".engagement-count[data-article]");
    if (counts.length) fillCounts(counts);
    fresh(".engagement-shares").forEach(fillShares);
    fresh(".engagement-comments").forEach(fillComments);
    fresh(".engagement-newsletter").forEach(fillNewsletter);
  }

  function start() {
    tokens.purgeExpired();
    loadStylesheet();
    fillAll();
  }

  window.Engagement = { base: base, refresh: fillAll };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
