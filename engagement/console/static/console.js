/* The moderation console (docs/api.md, "The moderation console").
 *
 * One page, no framework, no build step. It talks only to the admin API with the token the
 * moderator signs in with, kept in sessionStorage (never a cookie, never the URL), so every
 * change is audited and rate-limited like any other admin call.
 *
 * The program is a set of named functions sharing one small context object (`ctx`): the
 * token and its holder, the screen shown, each list's cursor, the queue's items and
 * selection, and the one action waiting out its undo window. Decisions on comments are
 * applied to the page at once and sent after UNDO_SECONDS (or as soon as the next action is
 * taken), so Undo can take back any of them, a delete included, without asking the API to
 * reverse anything.
 */
"use strict";

const API = "/api/v1/admin";
const TOKEN_KEY = "engagement.console.token";
const UNDO_SECONDS = 5;
const PAGE_SIZE = 20;
const ARRIVALS_SECONDS = 30;
const SCREENS = ["queue", "articles", "bans", "settings", "audit", "subscribers", "people"];

const HELD_FOR = {
  mode: "Every comment is held for review (moderation mode)",
  first_time: "First comment of this author",
  links: "More links than allowed",
  blocked_word: "Contains a blocked word",
  flags: "Hidden by readers' flags",
  honeypot: "Caught by the spam trap (a hidden field only robots fill in)",
  edited: "Edited after it was posted",
};
const STATUS_WORDS = {
  pending: "Held", flagged: "Flagged", approved: "Published", rejected: "Rejected",
  spam: "Spam", deleted: "Deleted",
};
const FLAG_WORDS = { spam: "spam", abuse: "abuse", off_topic: "off topic", other: "other" };
const DECISIONS = {
  approve: { status: "approved", done: (what) => `Approved ${what}.`, verb: "approve" },
  reject: { status: "rejected", done: (what) => `Rejected ${what}.`, verb: "reject" },
  spam: { status: "spam", done: (what) => `Marked ${what} as spam.`, verb: "mark as spam" },
  delete: { status: null, done: (what) => `Deleted ${what}.`, verb: "delete" },
};
const ACTION_WORDS = {
  "comment.moderate": "decided on", "comment.delete": "deleted",
  "comment.bulk_approve": "approved (in bulk)", "comment.bulk_reject": "rejected (in bulk)",
  "comment.bulk_spam": "marked as spam (in bulk)", "comment.bulk_delete": "deleted (in bulk)",
  "article.create": "set up", "article.update": "changed", "ban.create": "banned",
  "ban.delete": "lifted the ban", "settings.update": "changed the settings",
  "newsletter.export": "downloaded the subscribers", "newsletter.erase": "erased a subscriber",
  "people.export": "exported a person's data", "people.erase": "erased a person's data",
  "token.create": "made a token", "token.revoke": "revoked a token",
  "auth.failure": "failed to sign in",
};

// --- Start ----------------------------------------------------------------------------------

function createContext() {
  return {
    token: sessionStorage.getItem(TOKEN_KEY),
    holder: null,
    screen: null,
    queue: {
      cursor: null, total: 0, items: new Map(), selected: new Set(), current: null, asked: 0,
      linked: linkedComment(),
      filters: null, newest: 0, // of the list shown, for the look for arrivals
    },
    lists: {},
    pending: null,
    person: null, // what the people's data screen found
    toastTimer: null,
  };
}

// The comment that an alert's link (/admin/?comment=<id>) opens the queue on, or null.
function linkedComment() {
  const id = new URLSearchParams(location.search).get("comment");
  return /^[1-9][0-9]{0,9}$/.test(id || "") ? Number(id) : null;
}

// The moderator asks for the queue: the link's comment gives way, and leaves the address.
function forgetLinkedComment(ctx) {
  if (ctx.queue.linked !== null) {
    ctx.queue.linked = null;
    history.replaceState(null, "", location.pathname + location.hash);
  }
}

function $(id) {
  return document.getElementById(id);
}

function start() {
  const ctx = createContext();
  wireSignIn(ctx);
  wireQueue(ctx);
  wireArticles(ctx);
  wireBans(ctx);
  wireSettings(ctx);
  wireAudit(ctx);
  wireSubscribers(ctx);
  wirePeople(ctx);
  wireBanDialog(ctx);
  document.addEventListener("keydown", (event) => onShortcut(ctx, event));
  window.addEventListener("hashchange", () => route(ctx));
  // A decision still in its undo window is sent when the moderator leaves the page.
  window.addEventListener("pagehide", () => commitPending(ctx, { keepalive: true }));
  if (ctx.token) {
    resumeSession(ctx);
  } else {
    showSignIn(ctx, "");
  }
}

// --- The admin API --------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, payload) {
    super((payload && payload.message) || "The service answered with an error.");
    this.status = status;
    this.reason = payload && payload.reason;
    this.fields = (payload && payload.errors && (payload.errors.json || payload.errors.query)) || {};
  }
}

async function call(ctx, method, path, body, options = {}) {
  const headers = { Authorization: `Bearer ${ctx.token}`, Accept: "application/json" };
  const init = { method, headers, cache: "no-store", keepalive: Boolean(options.keepalive) };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(API + path, init);
  } catch (failure) {
    throw new ApiError(0, { message: "The service cannot be reached. Check the connection, then try again." });
  }
  if (response.ok) {
    return response.status === 204 ? null : options.raw ? response : response.json();
  }
  let payload = null;
  try {
    payload = await response.json();
  } catch (failure) {
    payload = null;
  }
  const error = new ApiError(response.status, payload);
  if (response.status === 401 && ctx.holder) {
    const lost = method === "GET" && !options.beforeChange ? "" : " Your last change was not saved.";
    endSession(ctx, "Your session has ended: your token is no longer accepted (it may have " +
      `been revoked).${lost} Sign in again with a valid token.`);
  }
  throw error;
}

/** An API error as a sentence a moderator can act on. */
function describeError(error) {
  if (!(error instanceof ApiError)) {
    return "Something went wrong in this page. Reload it and try again.";
  }
  const lead = {
    403: error.reason === "forbidden" ? "Your role may not do this." : "",
    404: "It no longer exists (someone may have removed it).",
    429: "Too many requests: wait a minute, then try again.",
    503: "The service is unavailable for a moment: try again shortly.",
  }[error.status] || "";
  const fields = Object.entries(error.fields)
    .map(([field, messages]) => `${fieldName(field)}: ${[].concat(messages).join(" ")}`)
    .join(" ");
  return [lead, error.message, fields].filter(Boolean).join(" ");
}

function fieldName(field) {
  return field === "_schema" ? "The request" : field.replace(/_/g, " ");
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== "" && value !== null && value !== undefined) {
      search.set(key, value);
    }
  }
  return search.toString();
}

// --- Signing in and out ---------------------------------------------------------------------

function wireSignIn(ctx) {
  $("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    signIn(ctx, $("token").value.trim());
  });
  $("sign-out").addEventListener("click", () => signOut(ctx));
  $("help-button").addEventListener("click", () => $("help-dialog").showModal());
}

async function signIn(ctx, token) {
  const error = $("token-error");
  error.hidden = true;
  if (!token) {
    return showFieldError(error, $("token"), "Paste your token first.");
  }
  ctx.token = token;
  try {
    ctx.holder = await call(ctx, "GET", "/me");
  } catch (failure) {
    ctx.token = null;
    const text = failure.status === 401
      ? "This token is not accepted: check that you pasted all of it, or ask for a new one."
      : describeError(failure);
    return showFieldError(error, $("token"), text);
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $("token").value = "";
  enterConsole(ctx);
  // The sign-in form is gone: focus goes to the heading of the screen that replaced it.
  const heading = document.querySelector(`#screen-${ctx.screen} h1`);
  heading.tabIndex = -1;
  heading.focus();
}

async function resumeSession(ctx) {
  try {
    ctx.holder = await call(ctx, "GET", "/me");
  } catch (failure) {
    const message = failure.status === 401
      ? "Your session has ended: your token is no longer accepted (it may have been " +
        "revoked). Sign in again with a valid token."
      : describeError(failure);
    return endSession(ctx, message);
  }
  enterConsole(ctx);
}

function enterConsole(ctx) {
  const admin = ctx.holder.role === "admin";
  $("holder-name").textContent = `${ctx.holder.name} (${ctx.holder.role})`;
  $("holder").hidden = false;
  $("tabs").hidden = false;
  // The subscribers and people's data tabs exist for the admin role only.
  for (const tab of document.querySelectorAll("[data-admin-only]")) {
    tab.hidden = !admin;
  }
  $("signin-message").hidden = true;
  route(ctx);
}

async function signOut(ctx) {
  await commitPending(ctx);
  endSession(ctx, "You have signed out. Your token is no longer kept in this browser.");
}

function endSession(ctx, message) {
  if (ctx.pending) {
    clearTimeout(ctx.pending.timer);
    ctx.pending = null;
  }
  sessionStorage.removeItem(TOKEN_KEY);
  ctx.token = null;
  ctx.holder = null;
  ctx.lists = {};
  $("queue-list").replaceChildren();
  ctx.queue.items.clear();
  ctx.queue.selected.clear();
  $("holder").hidden = true;
  $("tabs").hidden = true;
  for (const dialog of document.querySelectorAll("dialog[open]")) {
    dialog.close();
  }
  hideToast(ctx);
  showSignIn(ctx, message);
}

function showSignIn(ctx, message) {
  ctx.screen = "signin";
  clearAlert();
  for (const section of document.querySelectorAll(".screen")) {
    section.hidden = section.id !== "screen-signin";
  }
  const notice = $("signin-message");
  notice.textContent = message;
  notice.hidden = !message;
  document.title = "Sign in · Moderation";
  $("token").focus();
}

// --- Screens --------------------------------------------------------------------------------

function route(ctx) {
  if (!ctx.holder) {
    return;
  }
  const wanted = location.hash.replace(/^#/, "");
  const screen = SCREENS.includes(wanted) ? wanted : "queue";
  if (screen === ctx.screen) {
    return;
  }
  commitPending(ctx);
  ctx.screen = screen;
  clearAlert();
  for (const section of document.querySelectorAll(".screen")) {
    section.hidden = section.id !== `screen-${screen}`;
  }
  for (const tab of document.querySelectorAll("#tabs a")) {
    if (tab.dataset.screen === screen) {
      tab.setAttribute("aria-current", "page");
    } else {
      tab.removeAttribute("aria-current");
    }
  }
  const heading = document.querySelector(`#screen-${screen} h1`);
  document.title = `${heading.textContent} · Moderation`;
  const loaders = {
    queue: loadQueue, articles: loadArticles, bans: loadBans, settings: loadSettings,
    audit: loadAudit, subscribers: loadSubscribers, people: askForPerson,
  };
  loaders[screen](ctx, false);
}

function showAlert(text) {
  const alert = $("alert");
  alert.textContent = text;
  alert.hidden = false;
}

function clearAlert() {
  $("alert").hidden = true;
  $("alert").textContent = "";
}

function showToast(ctx, text, undoable) {
  clearTimeout(ctx.toastTimer);
  $("toast-text").textContent = text;
  $("toast-undo").hidden = !undoable;
  $("toast").hidden = false;
  if (!undoable) {
    ctx.toastTimer = setTimeout(() => hideToast(ctx), 6000);
  }
}

function hideToast(ctx) {
  clearTimeout(ctx.toastTimer);
  $("toast").hidden = true;
}

function showFieldError(element, field, text) {
  element.textContent = text;
  element.hidden = false;
  if (field) {
    field.setAttribute("aria-invalid", "true");
    field.focus();
  }
}

function clearFieldErrors(form) {
  for (const error of form.querySelectorAll(".field-error")) {
    error.hidden = true;
    error.textContent = "";
  }
  for (const field of form.querySelectorAll("[aria-invalid]")) {
    field.removeAttribute("aria-invalid");
  }
}

/** Put each of the API's field messages beside its field; true when any was placed. */
function showApiFieldErrors(form, error, idPrefix) {
  let placed = false;
  for (const [field, messages] of Object.entries(error.fields)) {
    const slot = $(`${idPrefix}${field.replace(/_/g, "-")}-error`);
    const input = form.elements[field];
    if (slot) {
      showFieldError(slot, placed ? null : input, [].concat(messages).join(" "));
      if (input) {
        input.setAttribute("aria-invalid", "true");
      }
      placed = true;
    }
  }
  return placed;
}

function formatTime(iso) {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
}

function setTime(element, iso) {
  element.dateTime = iso;
  element.textContent = formatTime(iso);
}

function fromTemplate(id) {
  return $(id).content.firstElementChild.cloneNode(true);
}

function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

/** Paged lists other than the queue: fetch a page, append it, keep the cursor. */
async function loadList(ctx, name, path, params, render, more) {
  const list = $(`${name}-list`);
  const state = ctx.lists[name] || (ctx.lists[name] = { cursor: null, shown: 0, asked: 0 });
  // Only the latest request fills the list: an answer to an earlier one is dropped.
  const asked = ++state.asked;
  let page;
  try {
    page = await call(ctx, "GET", `${path}?${query({ ...params, limit: PAGE_SIZE, cursor: more ? state.cursor : "" })}`);
  } catch (error) {
    if (asked === state.asked) {
      $(`${name}-summary`).textContent = describeError(error);
      $(`${name}-more`).hidden = true;
    }
    return;
  }
  if (asked !== state.asked) {
    return;
  }
  if (!more) {
    list.replaceChildren();
    state.shown = 0;
  }
  for (const item of page.items) {
    list.append(render(ctx, item));
  }
  state.cursor = page.next_cursor;
  state.shown += page.items.length;
  state.total = page.total;
  $(`${name}-more`).hidden = !page.next_cursor;
  summarizeList(name, state);
}

function summarizeList(name, state) {
  $(`${name}-summary`).textContent = state.total === 0
    ? "Nothing to show."
    : `Showing ${state.shown} of ${state.total}.`;
}

/** An item the moderator took out of a list (a lifted ban, an erased subscriber): the
 * summary counts it out, as a reload of the list would. */
function unlist(ctx, name, item) {
  const state = ctx.lists[name];
  item.remove();
  state.shown -= 1;
  state.total -= 1;
  summarizeList(name, state);
}

// --- The queue ------------------------------------------------------------------------------

function wireQueue(ctx) {
  // The bulk bar stays at the top of the screen (a third of a phone's): a comment scrolled
  // to stops below it, author and article showing, instead of under it (console.css).
  const bar = document.querySelector(".bulk-bar");
  new ResizeObserver(() => document.documentElement.style.setProperty(
    "--bulk-bar-height", `${bar.offsetHeight}px`)).observe(bar);
  // On a phone the filters start folded, so that the first comment shows without scrolling.
  $("queue-filter-box").open = !window.matchMedia("(max-width: 600px)").matches;
  // A decision in its undo window is sent, and answered, before the queue is asked again,
  // which would show its comment still waiting otherwise.
  $("queue-filters").addEventListener("submit", async (event) => {
    event.preventDefault();
    await commitPending(ctx);
    forgetLinkedComment(ctx);
    loadQueue(ctx, false);
  });
  $("queue-more").addEventListener("click", () => loadQueue(ctx, true));
  $("queue-arrivals").addEventListener("click", async () => {
    await commitPending(ctx);
    await loadQueue(ctx, false);
    const first = $("queue-list").firstElementChild;
    first ? setCurrent(ctx, first, true) : $("queue-summary").focus();
  });
  setInterval(() => lookForArrivals(ctx), ARRIVALS_SECONDS * 1000);
  document.addEventListener("visibilitychange", () => lookForArrivals(ctx));
  $("select-all").addEventListener("change", (event) => selectAll(ctx, event.target.checked));
  for (const button of document.querySelectorAll("[data-bulk]")) {
    button.addEventListener("click", () => bulkAct(ctx, button.dataset.bulk));
  }
  $("queue-list").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (button) {
      act(ctx, button.dataset.action, Number(button.closest(".item").dataset.id));
    }
    const others = event.target.closest(".show-history");
    if (others) {
      showAuthorsComments(others.dataset.email);
    }
  });
  $("queue-list").addEventListener("change", (event) => {
    if (event.target.classList.contains("select")) {
      select(ctx, Number(event.target.closest(".item").dataset.id), event.target.checked);
    }
  });
  $("queue-list").addEventListener("focusin", (event) => {
    const item = event.target.closest(".item");
    if (item) {
      setCurrent(ctx, item, false);
    }
  });
  $("toast-undo").addEventListener("click", () => undo(ctx));
}

// Every comment of one author, whatever its status: the filters set as a moderator would.
function showAuthorsComments(email) {
  const form = $("queue-filters");
  form.elements.status.value = "all";
  form.elements.reason.value = "";
  form.elements.article.value = "";
  form.elements.q.value = email;
  form.requestSubmit();
  $("queue-summary").focus();
}

function queueFilters() {
  const form = $("queue-filters");
  return {
    status: form.elements.status.value, reason: form.elements.reason.value,
    article: form.elements.article.value.trim(), q: form.elements.q.value.trim(),
    order: form.elements.order.value,
  };
}

async function loadQueue(ctx, more) {
  const queue = ctx.queue;
  const list = $("queue-list");
  const asked = ++queue.asked;
  list.setAttribute("aria-busy", "true");
  let page;
  try {
    // An alert's link shows its comment, whatever its status, until the filters are used.
    const filters = queue.linked === null ? queueFilters() : { status: "all", id: queue.linked };
    page = await call(ctx, "GET", `/comments?${query({ ...filters, limit: PAGE_SIZE, cursor: more ? queue.cursor : "" })}`);
  } catch (error) {
    if (asked === queue.asked) {
      $("queue-summary").textContent = describeError(error);
      list.setAttribute("aria-busy", "false");
    }
    return;
  }
  if (asked !== queue.asked) {
    return; // a later request (new filters) answers instead
  }
  list.setAttribute("aria-busy", "false");
  if (!more) {
    list.replaceChildren();
    queue.items.clear();
    queue.selected.clear();
    queue.current = null;
    queue.filters = queue.linked === null ? queueFilters() : null;
    queue.newest = 0;
    $("queue-arrivals").hidden = true;
    updateSelection(ctx);
  }
  queue.newest = Math.max(queue.newest, ...page.items.map((comment) => comment.id));
  const waiting = new Set(ctx.pending ? ctx.pending.change.ids : []);
  for (const comment of page.items) {
    if (!queue.items.has(comment.id) && !waiting.has(comment.id)) {
      const element = renderComment(ctx, comment);
      queue.items.set(comment.id, { comment, element });
      list.append(element);
    }
  }
  queue.cursor = page.next_cursor;
  queue.total = page.total;
  queue.linkedMissing = page.total === 0;
  $("queue-more").hidden = !page.next_cursor;
  if (!queue.current && list.firstElementChild) {
    // The comment of a link is what the moderator came for: the keys act on it at once.
    setCurrent(ctx, list.firstElementChild, queue.linked !== null);
  }
  summarizeQueue(ctx);
}

/**
 * Comments keep arriving while a moderator works: look for them (every ARRIVALS_SECONDS, and
 * when the tab is shown again) and say how many wait, without moving the list under the
 * moderator's hand. New ones are newer than any shown, or, for an older comment flagged
 * since, more than the total the list expects (its decisions in the undo window are still
 * counted by the service).
 */
async function lookForArrivals(ctx) {
  const queue = ctx.queue;
  if (document.hidden || ctx.screen !== "queue" || !ctx.holder || !queue.filters) {
    return;
  }
  const filters = queue.filters;
  let page;
  try {
    page = await call(ctx, "GET", `/comments?${query({ ...filters, order: "newest", limit: PAGE_SIZE })}`);
  } catch (error) {
    return; // the next look tells
  }
  if (filters !== queue.filters) {
    return; // the list was loaded again meanwhile
  }
  const newer = page.items.filter((comment) => comment.id > queue.newest).length;
  const expected = queue.total + (ctx.pending ? ctx.pending.change.ids.length : 0);
  const arrived = Math.max(newer, page.total - expected);
  const button = $("queue-arrivals");
  button.textContent = `${plural(arrived, "new comment", "new comments")} waiting. Show them`;
  button.hidden = arrived <= 0;
}

function summarizeQueue(ctx) {
  const shown = ctx.queue.items.size;
  if (ctx.queue.linked !== null) {
    const linked = shown ? "Showing the comment of your link."
      : ctx.queue.linkedMissing ? "The comment of your link is no longer there (erased)."
        : "Done with the comment of your link.";
    $("queue-summary").textContent = `${linked} Press Show for the queue, ? for keyboard shortcuts.`;
    return;
  }
  // Filters that match nothing (a mistyped article id) do not mean that nothing waits.
  const { status, reason, article, q } = queueFilters();
  const filtered = status !== "pending,flagged" || reason || article || q;
  $("queue-summary").textContent = shown !== 0 || ctx.queue.cursor
    ? `Showing ${shown} of ${ctx.queue.total}. Press ? for keyboard shortcuts.`
    : filtered ? "No comment matches these filters. Change them, then press Show."
      : "Nothing here. The queue is clear.";
}

// The article's title, a link to it when its address is known (in a tab of its own).
function fillArticleLink(item, url, title) {
  const link = item.querySelector(".article-link");
  if (url) {
    link.href = url;
    link.textContent = title;
    link.rel = "noopener noreferrer";
    link.target = "_blank";
  } else {
    link.remove();
    item.querySelector(".article-plain").textContent = title;
  }
}

function renderComment(ctx, comment) {
  const item = fromTemplate("comment-template");
  item.dataset.id = comment.id;
  const author = comment.author_name || "Deleted author";
  item.querySelector(".author").textContent = author;
  const title = comment.article_title || comment.article_id;
  fillArticleLink(item, comment.article_url, title);
  item.querySelector(".select").setAttribute("aria-label", `Select the comment by ${author}`);
  item.setAttribute("aria-label", `Comment by ${author} on ${title}`);
  fillStatus(item, comment);
  renderReasons(item.querySelector(".why"), comment);
  renderParent(item, comment.parent);
  item.querySelector(".body").innerHTML = comment.body_html; // sanitised by the service
  item.querySelector(".email").textContent = comment.author_email;
  item.querySelector(".address").textContent = comment.client_ip || "No longer kept";
  const history = comment.author_history;
  item.querySelector(".history").textContent =
    `${history.approved} approved, ${history.rejected} rejected, ${history.spam} spam`;
  const others = item.querySelector(".show-history");
  others.hidden = !comment.author_email || !(history.approved + history.rejected + history.spam);
  others.dataset.email = comment.author_email;
  others.setAttribute("aria-label", `Show them: every comment by ${author}`);
  setTime(item.querySelector(".posted"), comment.created_at);
  for (const button of item.querySelectorAll("button[data-action]")) {
    button.setAttribute("aria-label", `${button.textContent.replace("…", "")}: comment by ${author}`);
  }
  return item;
}

function fillStatus(item, comment) {
  // A deleted comment (its text gone, by its author or a moderator) has nothing to decide.
  const status = comment.deleted ? "deleted" : comment.status;
  item.querySelector(".status").textContent = STATUS_WORDS[status] || status;
  item.querySelector(".status").dataset.status = status;
  item.querySelector(".actions").hidden = comment.deleted;
  item.querySelector(".select").hidden = comment.deleted;
  item.querySelector(".pinned").hidden = !comment.pinned;
  item.querySelector(".banned").hidden = !comment.author_banned;
  const pin = item.querySelector('[data-action="pin"]');
  pin.textContent = comment.pinned ? "Unpin" : "Pin";
  const author = comment.author_name || "Deleted author";
  pin.setAttribute("aria-label", `${pin.textContent}: comment by ${author}`);
}

function renderReasons(list, comment) {
  const reasons = comment.held_for.map((reason) => HELD_FOR[reason] || reason);
  if (comment.flags.length) {
    // Readers who flag alike are counted, not repeated: "abuse ("Insulting") ×3".
    const alike = new Map();
    for (const flag of comment.flags) {
      const words = FLAG_WORDS[flag.reason] + (flag.note ? ` ("${flag.note}")` : "");
      alike.set(words, (alike.get(words) || 0) + 1);
    }
    const flags = [...alike].map(([words, count]) => (count > 1 ? `${words} ×${count}` : words));
    reasons.push(`Flagged by ${plural(comment.flag_count, "reader", "readers")}: ${flags.join(", ")}`);
  }
  list.replaceChildren(...reasons.map((reason) => {
    const entry = document.createElement("li");
    entry.textContent = reason;
    return entry;
  }));
  list.hidden = reasons.length === 0;
}

function renderParent(item, parent) {
  if (!parent) {
    return;
  }
  item.querySelector(".parent").hidden = false;
  item.querySelector(".parent-label").textContent = parent.deleted
    ? "In reply to a deleted comment"
    : `In reply to ${parent.author_name} (${STATUS_WORDS[parent.status] || parent.status}):`;
  item.querySelector(".parent-body").innerHTML = parent.body_html; // sanitised by the service
}

function setCurrent(ctx, item, focus) {
  const previous = ctx.queue.current;
  if (previous && previous !== item) {
    previous.classList.remove("current");
    previous.tabIndex = -1;
  }
  ctx.queue.current = item;
  if (!item) {
    return;
  }
  item.classList.add("current");
  item.tabIndex = 0;
  if (focus) {
    item.focus({ preventScroll: true });
    // A comment not wholly in view is shown from its top (below the bulk bar, its scroll
    // margin): "nearest" showed the end of one longer than the screen, without its author.
    const box = item.getBoundingClientRect();
    if (box.top < parseFloat(getComputedStyle(item).scrollMarginTop) || box.bottom > innerHeight) {
      item.scrollIntoView({ block: "start" });
    }
  }
}

function move(ctx, step) {
  const current = ctx.queue.current;
  const list = $("queue-list");
  if (current && current.isConnected && !current.contains(document.activeElement)) {
    return setCurrent(ctx, current, true); // the first j or k reaches the current comment
  }
  const next = !current
    ? list.firstElementChild
    : step > 0 ? current.nextElementSibling : current.previousElementSibling;
  if (next) {
    setCurrent(ctx, next, true);
  } else if (step > 0 && ctx.queue.cursor) {
    loadQueue(ctx, true);
  }
}

function currentId(ctx) {
  const current = ctx.queue.current;
  return current && current.isConnected ? Number(current.dataset.id) : null;
}

// --- Decisions, with undo -------------------------------------------------------------------

function act(ctx, action, id) {
  const entry = ctx.queue.items.get(id);
  if (!entry) {
    return;
  }
  if (entry.comment.deleted) {
    return showToast(ctx, "This comment is deleted: there is nothing to decide.", false);
  }
  if (action === "ban") {
    return openBanDialog(ctx, id);
  }
  if (action === "pin") {
    return togglePin(ctx, entry);
  }
  const decision = DECISIONS[action];
  const author = entry.comment.author_name || "a deleted author";
  schedule(ctx, {
    ids: [id],
    label: decision.done(`the comment by ${author}`),
    failed: `Could not ${decision.verb} the comment by ${author}.`,
    overruled: `Did not ${decision.verb} the comment by ${author}:`,
    apply: () => detach(ctx, [id]),
    send: async (options) => {
      if (!options.keepalive) { // leaving the page: no time to ask
        await notDecidedMeanwhile(ctx, entry.comment);
      }
      return action === "delete"
        ? call(ctx, "DELETE", `/comments/${id}`, undefined, options)
        : call(ctx, "PATCH", `/comments/${id}`, { status: decision.status }, options);
    },
  });
}

/** Another moderator's decision, made since the queue was loaded (its message says whose). */
class DecidedMeanwhile extends Error {}

/**
 * The queue a moderator reads may be minutes old, and another moderator may have decided a
 * comment since: a decision is sent only on the comment as it was shown, so that nobody
 * overrules a colleague without knowing.
 */
async function notDecidedMeanwhile(ctx, shown) {
  const asked = { beforeChange: true }; // a refused token means the decision is not saved
  const { items: [now] } = await call(ctx, "GET", `/comments?${query({ status: "all", id: shown.id })}`, undefined, asked);
  // As shown, hidden by readers' flags since (no moderator's decision), or deleted (the
  // decision's own answer says so).
  if (!now || now.deleted || now.status === shown.status || now.status === "flagged") {
    return;
  }
  const { items: [last] } = await call(ctx, "GET", `/audit?${query({ target: `comment:${shown.id}`, limit: 1 })}`, undefined, asked);
  const what = now.status === "spam" ? "marked it as spam" : `${now.status} it`;
  throw new DecidedMeanwhile(last
    ? `${last.actor} ${what} meanwhile (${formatTime(last.at)}).`
    : `another moderator ${what} meanwhile.`);
}

function togglePin(ctx, entry) {
  const pinned = !entry.comment.pinned;
  const author = entry.comment.author_name || "a deleted author";
  const show = (value) => {
    entry.comment.pinned = value;
    fillStatus(entry.element, entry.comment);
  };
  schedule(ctx, {
    ids: [],
    label: `${pinned ? "Pinned" : "Unpinned"} the comment by ${author}.`,
    failed: `Could not ${pinned ? "pin" : "unpin"} the comment by ${author}.`,
    apply: () => {
      show(pinned);
      return () => show(!pinned);
    },
    send: (options) => call(ctx, "PATCH", `/comments/${entry.comment.id}`, { pinned }, options),
  });
}

function bulkAct(ctx, action) {
  const ids = [...ctx.queue.selected].filter((id) => ctx.queue.items.has(id));
  if (ids.length === 0) {
    return;
  }
  schedule(ctx, {
    ids,
    label: DECISIONS[action].done(plural(ids.length, "comment", "comments")),
    failed: `Could not ${DECISIONS[action].verb} ${plural(ids.length, "comment", "comments")}.`,
    apply: () => detach(ctx, ids),
    send: (options) => call(ctx, "POST", "/comments/bulk", { ids, action }, options),
    // The service counts the comments it found: another moderator may have deleted some.
    settled: ({ updated }) => updated === ids.length ? null
      : `${DECISIONS[action].done(plural(updated, "comment", "comments"))} ${
        plural(ids.length - updated, "comment", "comments")} had been deleted meanwhile.`,
  });
}

/**
 * Apply a change to the page now and send it after the undo window. `apply` returns the
 * function that puts the page back; `failed` says what could not be done if the service
 * refuses it; `settled`, if given, what was done once the service answered, where that
 * differs from `label`. The change waiting before it is sent at once.
 */
function schedule(ctx, change) {
  commitPending(ctx);
  clearAlert();
  const revert = change.apply();
  ctx.pending = {
    change,
    revert,
    timer: setTimeout(() => commitPending(ctx), UNDO_SECONDS * 1000),
  };
  showToast(ctx, `${change.label} Sending in ${UNDO_SECONDS} seconds.`, true);
}

async function commitPending(ctx, options = {}) {
  const pending = ctx.pending;
  if (!pending) {
    return;
  }
  ctx.pending = null;
  clearTimeout(pending.timer);
  showToast(ctx, pending.change.label, false);
  try {
    const answer = await pending.change.send(options);
    const settled = pending.change.settled && pending.change.settled(answer);
    if (settled) {
      showToast(ctx, settled, false);
    }
  } catch (error) {
    if (!ctx.holder) {
      return; // the session ended: the sign-in page says why
    }
    // A comment gone or decided meanwhile (by another moderator) is not put back to be
    // decided again.
    const overruled = error instanceof DecidedMeanwhile;
    const gone = error instanceof ApiError && error.status === 404 && pending.change.ids.length;
    if (!gone && !overruled) {
      pending.revert();
    }
    showAlert(overruled ? `${pending.change.overruled} ${error.message}`
      : `${pending.change.failed} ${describeError(error)}`);
    hideToast(ctx);
  }
}

function undo(ctx) {
  const pending = ctx.pending;
  if (!pending) {
    return;
  }
  ctx.pending = null;
  clearTimeout(pending.timer);
  pending.revert();
  showToast(ctx, `Undone: ${pending.change.label} Nothing was sent.`, false);
}

/** Take items out of the queue, focus the next one, and return how to put them back. */
function detach(ctx, ids) {
  const queue = ctx.queue;
  const list = $("queue-list");
  const removed = ids.map((id) => queue.items.get(id)).filter(Boolean);
  const wasCurrent = removed.some((entry) => entry.element === queue.current);
  const places = removed.map((entry) => {
    const after = [];
    for (let next = entry.element.nextElementSibling; next; next = next.nextElementSibling) {
      after.push(next);
    }
    return { entry, after, selected: queue.selected.has(entry.comment.id) };
  });
  let successor = null;
  if (wasCurrent) {
    const gone = new Set(removed.map((entry) => entry.element));
    const siblings = [...list.children];
    const index = siblings.indexOf(queue.current);
    successor = siblings.slice(index + 1).find((element) => !gone.has(element))
      || siblings.slice(0, index).reverse().find((element) => !gone.has(element)) || null;
  }
  for (const { entry } of places) {
    entry.element.remove();
    queue.items.delete(entry.comment.id);
    queue.selected.delete(entry.comment.id);
    entry.element.querySelector(".select").checked = false;
    entry.element.classList.remove("selected");
  }
  queue.total -= removed.length;
  updateSelection(ctx);
  if (wasCurrent) {
    setCurrent(ctx, successor, Boolean(successor));
    if (!successor) {
      $("queue-summary").focus();
    }
  }
  summarizeQueue(ctx);
  if (list.children.length === 0 && queue.cursor) {
    loadQueue(ctx, true);
  }
  return () => {
    for (const { entry, after, selected } of places.reverse()) {
      const anchor = after.find((element) => element.parentNode === list) || null;
      list.insertBefore(entry.element, anchor);
      queue.items.set(entry.comment.id, entry);
      if (selected) {
        select(ctx, entry.comment.id, true); // back as it was: ticked and marked
      }
    }
    queue.total += removed.length;
    if (removed.length) {
      setCurrent(ctx, removed[0].element, true);
    }
    summarizeQueue(ctx);
  };
}

// --- Selection ------------------------------------------------------------------------------

// The queue's comments a decision can apply to: not those deleted (see fillStatus).
function decidableIds(ctx) {
  return [...ctx.queue.items].filter(([, entry]) => !entry.comment.deleted).map(([id]) => id);
}

function select(ctx, id, selected) {
  if (selected && !decidableIds(ctx).includes(id)) {
    return;
  }
  if (selected) {
    ctx.queue.selected.add(id);
  } else {
    ctx.queue.selected.delete(id);
  }
  const entry = ctx.queue.items.get(id);
  if (entry) {
    entry.element.querySelector(".select").checked = selected;
    entry.element.classList.toggle("selected", selected);
  }
  updateSelection(ctx);
}

function selectAll(ctx, selected) {
  for (const id of decidableIds(ctx)) {
    select(ctx, id, selected);
  }
}

function updateSelection(ctx) {
  const count = ctx.queue.selected.size;
  $("selected-count").textContent = count === 0 ? "None selected" : `${count} selected`;
  for (const button of document.querySelectorAll("[data-bulk]")) {
    button.disabled = count === 0;
  }
  const all = $("select-all");
  const decidable = decidableIds(ctx).length;
  all.checked = count > 0 && count === decidable;
  all.indeterminate = count > 0 && count < decidable;
}

// --- Keyboard shortcuts ---------------------------------------------------------------------

function isTyping(target) {
  if (target.isContentEditable || target.matches("textarea, select")) {
    return true;
  }
  return target.matches("input") && !["checkbox", "radio", "button", "submit"].includes(target.type);
}

function onShortcut(ctx, event) {
  if (!ctx.holder || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) {
    return;
  }
  if (document.querySelector("dialog[open]")) {
    return;
  }
  if (event.key === "?") {
    event.preventDefault();
    $("help-dialog").showModal();
    return;
  }
  if (ctx.screen !== "queue") {
    return;
  }
  const id = currentId(ctx);
  const keys = {
    j: () => move(ctx, 1),
    k: () => move(ctx, -1),
    a: () => id && act(ctx, "approve", id),
    r: () => id && act(ctx, "reject", id),
    s: () => id && act(ctx, "spam", id),
    d: () => id && act(ctx, "delete", id),
    p: () => id && act(ctx, "pin", id),
    b: () => id && act(ctx, "ban", id),
    x: () => id && select(ctx, id, !ctx.queue.selected.has(id)),
    u: () => undo(ctx),
    "/": () => $("queue-q").focus(),
  };
  if (keys[event.key]) {
    event.preventDefault();
    keys[event.key]();
  }
}

// --- Banning the author of a comment --------------------------------------------------------

function wireBanDialog(ctx) {
  $("ban-dialog-form").addEventListener("submit", (event) => {
    event.preventDefault();
    banFromDialog(ctx);
  });
  $("ban-dialog-cancel").addEventListener("click", () => $("ban-dialog").close());
  $("ban-dialog").addEventListener("close", () => {
    const current = ctx.queue.current;
    if (current && current.isConnected) {
      current.focus();
    }
  });
}

function openBanDialog(ctx, id) {
  const comment = ctx.queue.items.get(id).comment;
  const dialog = $("ban-dialog");
  const form = $("ban-dialog-form");
  dialog.dataset.commentId = id;
  // A new ban of the same address replaces the one in force, which may be longer than this.
  const already = comment.author_banned
    ? " This author is already banned: a new ban of the same address replaces that one, " +
      "its reason and its end (see Bans)."
    : "";
  $("ban-dialog-comment").textContent =
    `Their comments will be refused while the ban lasts. Comment by ${comment.author_name || "a deleted author"}.${already}`;
  $("ban-dialog-email").textContent = comment.author_email;
  const network = addressNetwork(comment.client_ip);
  $("ban-dialog-network").textContent = network || "";
  $("ban-dialog-network-hint").textContent = !network
    ? "The address is no longer kept."
    : network.includes(":")
      ? "(the author's IPv6 network: one household or phone)"
      : "(the author's address)";
  $("ban-dialog-ip-choice").disabled = !network;
  form.elements.kind.value = "email";
  form.elements.reason.value = "";
  form.elements.expiry.value = "7";
  clearFieldErrors(form);
  dialog.showModal();
  form.elements.reason.focus();
}

async function banFromDialog(ctx) {
  const form = $("ban-dialog-form");
  const comment = ctx.queue.items.get(Number($("ban-dialog").dataset.commentId))?.comment;
  clearFieldErrors(form);
  if (!comment) {
    return $("ban-dialog").close();
  }
  const kind = form.elements.kind.value;
  const value = kind === "email" ? comment.author_email : addressNetwork(comment.client_ip);
  const reason = form.elements.reason.value.trim();
  if (!reason) {
    return showFieldError($("ban-dialog-error"), form.elements.reason, "Give a reason for the other moderators.");
  }
  const days = form.elements.expiry.value;
  let ban;
  try {
    ban = await call(ctx, "POST", "/bans", { kind, value, reason, expires_at: expiry(days) });
  } catch (error) {
    return showFieldError($("ban-dialog-error"), null, describeError(error));
  }
  $("ban-dialog").close();
  for (const entry of ctx.queue.items.values()) {
    const same = kind === "email"
      ? entry.comment.author_email === comment.author_email
      : addressNetwork(entry.comment.client_ip) === value;
    if (same) {
      entry.comment.author_banned = true;
      fillStatus(entry.element, entry.comment);
    }
  }
  showToast(ctx, `Banned ${value} ${days ? `for ${plural(Number(days), "day", "days")}` : "for good"}.${replacedNote(ban)}`, false);
}

/** What a new ban replaced, where it replaced one in force: a ban for good may have become
 * a week's, another moderator's reason this one's. */
function replacedNote(ban) {
  const old = ban.replaced;
  return old ? ` It replaces the ban ${old.created_by} made on ${formatTime(old.created_at)} ${old.expires_at ? `until ${formatTime(old.expires_at)}` : "for good"} ("${old.reason}").` : "";
}

function expiry(days) {
  return days ? new Date(Date.now() + Number(days) * 86400000).toISOString() : null;
}

/** What to ban for an address: an IPv4 address itself, an IPv6 address by its /64. */
function addressNetwork(address) {
  if (!address) {
    return null;
  }
  if (!address.includes(":")) {
    return address;
  }
  const [head, tail] = address.split("::");
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail === undefined ? [] : tail ? tail.split(":") : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array(Math.max(missing, 0)).fill("0"), ...tailGroups];
  const prefix = groups.slice(0, 4).map((group) => parseInt(group, 16).toString(16)).join(":");
  return `${prefix}::/64`;
}

// --- Articles -------------------------------------------------------------------------------

function wireArticles(ctx) {
  $("article-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    loadArticles(ctx, false);
  });
  $("articles-more").addEventListener("click", () => loadArticles(ctx, true));
}

function loadArticles(ctx, more) {
  const form = $("article-filters");
  const params = { q: form.elements.q.value.trim(), comments_open: form.elements.comments_open.value };
  return loadList(ctx, "articles", "/articles", params, renderArticle, more);
}

function renderArticle(ctx, article) {
  const item = fromTemplate("article-template");
  const title = article.title || article.id;
  fillArticleLink(item, article.url, title);
  item.querySelector(".article-id").textContent = `id ${article.id}`;
  const byModerator = article.comments_open_by_moderator !== null;
  let closes = "";
  if (article.comments_close_at) {
    closes = article.comments_open
      ? `, closing ${formatTime(article.comments_close_at)}`
      : ` since ${formatTime(article.comments_close_at)}`;
  }
  item.querySelector(".state").textContent = (article.comments_open ? "Comments open" : "Comments closed")
    + (byModerator ? " (set by a moderator)" : closes);
  item.querySelector(".count").textContent = plural(article.comment_count, "comment", "comments");
  const toggle = item.querySelector(".toggle");
  toggle.textContent = article.comments_open ? "Close comments" : "Open comments";
  toggle.setAttribute("aria-label", `${toggle.textContent} on ${title}`);
  toggle.addEventListener("click", () =>
    changeArticle(ctx, item, article, { comments_open: !article.comments_open },
      article.comments_open ? "Comments closed" : "Comments opened", ".toggle"));
  const automatic = item.querySelector(".automatic");
  automatic.hidden = !byModerator;
  automatic.setAttribute("aria-label", `Back to automatic on ${title}`);
  automatic.addEventListener("click", () =>
    changeArticle(ctx, item, article, { comments_open: null }, "Back to automatic", ".automatic"));
  const input = item.querySelector(".close-at-input");
  input.value = toLocalInput(article.comments_close_at);
  item.querySelector(".close-at-save").setAttribute("aria-label", `Set the closing time of ${title}`);
  item.querySelector(".close-at-save").addEventListener("click", () => {
    const at = input.value ? new Date(input.value).toISOString() : null;
    let done = "No closing time";
    if (at) {
      done = new Date(at) > new Date() ? `Comments close ${formatTime(at)}`
        : `Comments closed: their closing time, ${formatTime(at)}, has passed`;
    }
    changeArticle(ctx, item, article, { comments_close_at: at }, done, ".close-at-save");
  });
  return item;
}

async function changeArticle(ctx, item, article, changes, done, control) {
  let answer;
  try {
    answer = await call(ctx, "PATCH", `/articles/${encodeURIComponent(article.id)}`, changes);
  } catch (error) {
    const slot = item.querySelector(".field-error");
    slot.textContent = describeError(error);
    slot.hidden = false;
    return;
  }
  const fresh = renderArticle(ctx, answer);
  item.replaceWith(fresh);
  // Focus stays on the control used, in the item drawn anew; on the toggle if that one went.
  const same = fresh.querySelector(control);
  (same.hidden ? fresh.querySelector(".toggle") : same).focus();
  showToast(ctx, `${done}: ${answer.title || answer.id}.`, false);
}

function toLocalInput(iso) {
  if (!iso) {
    return "";
  }
  const moment = new Date(iso);
  const local = new Date(moment.getTime() - moment.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 16);
}

// --- Bans -----------------------------------------------------------------------------------

function wireBans(ctx) {
  $("ban-form").addEventListener("submit", (event) => {
    event.preventDefault();
    addBan(ctx);
  });
  $("bans-more").addEventListener("click", () => loadBans(ctx, true));
}

function loadBans(ctx, more) {
  return loadList(ctx, "bans", "/bans", {}, renderBan, more);
}

function renderBan(ctx, ban) {
  const item = fromTemplate("ban-template");
  item.querySelector(".value").textContent = ban.value;
  item.querySelector(".state").textContent = ban.active ? "Active" : "Ended";
  item.querySelector(".state").dataset.status = ban.active ? "active" : "ended";
  item.querySelector(".reason").textContent = `Reason: ${ban.reason}`;
  item.querySelector(".when").textContent =
    `${ban.expires_at ? `Until ${formatTime(ban.expires_at)}` : "Forever"} · by ${ban.created_by}, ${formatTime(ban.created_at)}`;
  const lift = item.querySelector(".lift");
  lift.setAttribute("aria-label", `Lift ban on ${ban.value}`);
  lift.addEventListener("click", async () => {
    try {
      await call(ctx, "DELETE", `/bans/${ban.id}`);
    } catch (error) {
      return showAlert(describeError(error));
    }
    const next = item.nextElementSibling || item.previousElementSibling;
    unlist(ctx, "bans", item);
    (next ? next.querySelector("button") : $("ban-value")).focus();
    showToast(ctx, `The ban on ${ban.value} is lifted.`, false);
  });
  return item;
}

async function addBan(ctx) {
  const form = $("ban-form");
  clearFieldErrors(form);
  const fields = {
    kind: form.elements.kind.value, value: form.elements.value.value.trim(),
    reason: form.elements.reason.value.trim(), expires_at: expiry(form.elements.expiry.value),
  };
  let ban;
  try {
    ban = await call(ctx, "POST", "/bans", fields);
  } catch (error) {
    if (!showApiFieldErrors(form, error, "ban-")) {
      showAlert(describeError(error));
    }
    return;
  }
  form.elements.value.value = "";
  form.elements.reason.value = "";
  showToast(ctx, `Banned ${fields.value}.${replacedNote(ban)}`, false);
  loadBans(ctx, false);
}

// --- Settings -------------------------------------------------------------------------------

function wireSettings(ctx) {
  $("settings-form").addEventListener("submit", (event) => {
    event.preventDefault();
    saveSettings(ctx);
  });
}

async function loadSettings(ctx) {
  let settings;
  try {
    settings = await call(ctx, "GET", "/settings");
  } catch (error) {
    return showAlert(describeError(error));
  }
  fillSettings(settings);
}

function fillSettings(settings) {
  const form = $("settings-form");
  form.elements.moderation_mode.value = settings.moderation_mode;
  form.elements.max_links.value = settings.max_links;
  form.elements.blocked_words.value = settings.blocked_words.join("\n");
  form.elements.flag_threshold.value = settings.flag_threshold;
}

function numberOrText(value) {
  return /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
}

async function saveSettings(ctx) {
  const form = $("settings-form");
  const status = $("settings-status");
  clearFieldErrors(form);
  status.textContent = "";
  const changes = {
    moderation_mode: form.elements.moderation_mode.value,
    max_links: numberOrText(form.elements.max_links.value),
    blocked_words: form.elements.blocked_words.value.split("\n").map((word) => word.trim()).filter(Boolean),
    flag_threshold: numberOrText(form.elements.flag_threshold.value),
  };
  let saved;
  try {
    saved = await call(ctx, "PATCH", "/settings", changes);
  } catch (error) {
    if (!showApiFieldErrors(form, error, "")) {
      showAlert(describeError(error));
    }
    status.textContent = "Not saved: see the message above the button.";
    return;
  }
  fillSettings(saved);
  status.textContent = "Settings saved. They apply to comments posted from now on.";
}

// --- The audit log --------------------------------------------------------------------------

function wireAudit(ctx) {
  $("audit-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    loadAudit(ctx, false);
  });
  $("audit-more").addEventListener("click", () => loadAudit(ctx, true));
}

function loadAudit(ctx, more) {
  const form = $("audit-filters");
  const params = {
    actor: form.elements.actor.value.trim(), action: form.elements.action.value,
    target: form.elements.target.value.trim(),
  };
  return loadList(ctx, "audit", "/audit", params, renderEntry, more);
}

function renderEntry(ctx, entry) {
  const item = fromTemplate("audit-template");
  setTime(item.querySelector(".at"), entry.at);
  item.querySelector(".actor").textContent = entry.actor;
  item.querySelector(".action").textContent = ACTION_WORDS[entry.action] || entry.action;
  item.querySelector(".action").title = entry.action;
  item.querySelector(".target").textContent = entry.target;
  const details = Object.entries(entry.details || {})
    .map(([key, value]) => `${fieldName(key)}: ${detailText(key, value)}`);
  item.querySelector(".details").textContent = details.join(" · ");
  item.querySelector(".details").hidden = details.length === 0;
  return item;
}

// What a detail's null, true and false mean where it is not plain "none", "yes" and "no".
const DETAIL_WORDS = {
  comments_open: { null: "automatic", true: "open", false: "closed" },
  expires_at: { null: "never" },
};
const MOMENT = /^\d{4}-\d\d-\d\dT\d\d:\d\d/;

// An audit detail in words: dates as the rest of the console shows them.
function detailText(key, value) {
  const words = DETAIL_WORDS[key] || {};
  if (String(value) in words) {
    return words[String(value)];
  }
  if (value === null || typeof value === "boolean") {
    return { null: "none", true: "yes", false: "no" }[String(value)];
  }
  if (Array.isArray(value)) {
    return value.join(", ");
  }
  return MOMENT.test(value) ? formatTime(value) : value;
}

// --- Newsletter subscribers (admin role) ----------------------------------------------------

function wireSubscribers(ctx) {
  $("subscriber-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    loadSubscribers(ctx, false);
  });
  $("subscribers-more").addEventListener("click", () => loadSubscribers(ctx, true));
  $("subscribers-export").addEventListener("click", () => exportSubscribers(ctx));
}

function loadSubscribers(ctx, more) {
  const params = { status: $("subscriber-filters").elements.status.value };
  return loadList(ctx, "subscribers", "/newsletter/subscribers", params, renderSubscriber, more);
}

function renderSubscriber(ctx, subscriber) {
  const item = fromTemplate("subscriber-template");
  item.querySelector(".email").textContent = subscriber.email;
  item.querySelector(".name").textContent = subscriber.name || "";
  item.querySelector(".state").textContent = subscriber.status;
  item.querySelector(".state").dataset.status = subscriber.status;
  const dates = [`Signed up ${formatTime(subscriber.signed_up_at)}`];
  if (subscriber.confirmed_at) {
    dates.push(`confirmed ${formatTime(subscriber.confirmed_at)}`);
  }
  if (subscriber.unsubscribed_at) {
    dates.push(`unsubscribed ${formatTime(subscriber.unsubscribed_at)}`);
  }
  item.querySelector(".dates").textContent = `${dates.join(", ")} · source: ${subscriber.source || "none"}`;
  const erase = item.querySelector(".erase");
  erase.setAttribute("aria-label", `Erase ${subscriber.email}`);
  erase.addEventListener("click", async () => {
    if (!window.confirm(`Erase ${subscriber.email}? Nothing of the address will remain. This cannot be undone.`)) {
      return;
    }
    try {
      await call(ctx, "DELETE", `/newsletter/subscribers/${subscriber.id}`);
    } catch (error) {
      return showAlert(describeError(error));
    }
    unlist(ctx, "subscribers", item);
    showToast(ctx, `${subscriber.email} is erased.`, false);
  });
  return item;
}

async function exportSubscribers(ctx) {
  const status = $("subscriber-filters").elements.status.value;
  let response;
  try {
    response = await call(ctx, "GET", `/newsletter/subscribers.csv?${query({ status })}`, undefined, { raw: true });
  } catch (error) {
    return showAlert(describeError(error));
  }
  saveFile(await response.blob(), "subscribers.csv");
}

/** Hand the browser a file to save, as a download link would. */
function saveFile(blob, name) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

// --- People's data --------------------------------------------------------------------------

const COMMENT_STATUS_WORDS = { approved: "published", pending: "waiting", rejected: "rejected", spam: "spam" };
const SUBSCRIPTION_WORDS = { pending: "not confirmed yet", confirmed: "confirmed", unsubscribed: "unsubscribed" };

function wirePeople(ctx) {
  $("person-form").addEventListener("submit", (event) => {
    event.preventDefault();
    findPerson(ctx);
  });
  $("person-download").addEventListener("click", () => saveFile(
    new Blob([JSON.stringify(ctx.person, null, 2)], { type: "application/json" }),
    `${ctx.person.email}.json`));
  $("person-erase").addEventListener("click", () => erasePerson(ctx));
}

function askForPerson(ctx) {
  ctx.person = null;
  $("person-found").hidden = true;
  $("people-summary").textContent = "Enter the email address of the person who asked.";
}

async function findPerson(ctx) {
  const form = $("person-form");
  clearFieldErrors(form);
  let person;
  try {
    person = await call(ctx, "GET", `/people?${query({ email: form.elements.email.value.trim() })}`);
  } catch (error) {
    if (!showApiFieldErrors(form, error, "person-")) {
      showAlert(describeError(error));
    }
    return;
  }
  ctx.person = person;
  $("person-found-title").textContent = `What is kept of ${person.email}`;
  $("person-facts").replaceChildren(...personFacts(person).map((fact) => {
    const item = document.createElement("li");
    item.textContent = fact;
    return item;
  }));
  $("person-with-comments").checked = false;
  $("person-erase").textContent = `Erase ${person.email}`;
  $("person-found").hidden = false;
  $("people-summary").textContent = "";
}

/** What the export holds, in a sentence a kind: the JSON download has every field. */
function personFacts(person) {
  const statuses = new Map();
  for (const comment of person.comments) {
    const word = comment.deleted_at ? "deleted" : COMMENT_STATUS_WORDS[comment.status];
    statuses.set(word, (statuses.get(word) || 0) + 1);
  }
  const byStatus = [...statuses].map(([word, count]) => `${count} ${word}`).join(", ");
  const { newsletter, reply_notifications: replies } = person;
  return [
    person.comments.length ? `${plural(person.comments.length, "comment", "comments")} (${byStatus})` : "No comments",
    person.flags.length ? `${plural(person.flags.length, "flag", "flags")} raised on comments` : "No flags raised",
    newsletter ? `Newsletter: ${SUBSCRIPTION_WORDS[newsletter.status]}, signed up ${formatTime(newsletter.signed_up_at)}` : "No newsletter subscription",
    replies ? `Reply emails asked for on ${plural(replies.subscriptions.length, "comment", "comments")}${replies.stopped_at ? " (stopped)" : ""}` : "No reply emails",
    person.queued_mail.length ? `${plural(person.queued_mail.length, "email", "emails")} to them in the outbox` : "No email to them in the outbox",
  ];
}

async function erasePerson(ctx) {
  const person = ctx.person;
  const withComments = $("person-with-comments").checked;
  const comments = withComments ? "the text of their comments too" : 'their comments stay under the name "Deleted"';
  if (!window.confirm(`Erase ${person.email} everywhere (${comments})? This cannot be undone.`)) {
    return;
  }
  let erased;
  try {
    erased = await call(ctx, "DELETE", `/people?${query({ email: person.email, with_comments: withComments })}`);
  } catch (error) {
    return showAlert(describeError(error));
  }
  $("person-form").elements.email.value = "";
  askForPerson(ctx);
  showToast(ctx, `${person.email} is erased: ${plural(erased.comments, "comment", "comments")}, ` +
    `${plural(erased.flags, "flag", "flags")}, ${plural(erased.newsletter, "subscription", "subscriptions")}, ` +
    `${plural(erased.queued_mail, "queued email", "queued emails")}.`, false);
}

document.addEventListener("DOMContentLoaded", start);
