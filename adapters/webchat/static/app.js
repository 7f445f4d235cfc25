// The threadwork web chat: channels, threads, a composer, live updates.
// State lives here; rendering of messages and blocks is in render.js.

import { api, newMessageId } from "./api.js";
import { el, formatTime } from "./dom.js";
import { addNote, messageElement, summaryOf, updateMessageElement } from "./render.js";

const $ = (id) => document.getElementById(id);
const CHANNEL_POLL_MS = 4000;
const STREAM_RECONNECT_MS = 3000;
const STORAGE = { name: "threadwork.name", guest: "threadwork.guest" };

const state = {
  channels: [],
  channel: null,
  thread: null,
  messages: new Map(), // id -> message, for the current channel
  unread: new Map(), // channel id -> messages arrived while elsewhere
  seen: new Map(), // thread id -> newest ts the user has seen
  loadToken: 0,
  streamSeq: 0, // counts stream events, so a slower snapshot never overwrites a newer edit
  touchedAt: new Map(), // message id -> streamSeq of its last stream event
  draft: null, // {text, channel, thread, messageId}: a retry of the same text reuses its id
};

// ---- errors ----------------------------------------------------------------

const errors = new Map(); // source -> text; the banner shows the newest

function showError(text, source = "general") {
  errors.delete(source);
  errors.set(source, text);
  renderErrors();
}

function clearError(source) {
  if (errors.delete(source)) renderErrors();
}

function renderErrors() {
  const texts = [...errors.values()];
  $("error-banner").hidden = texts.length === 0;
  $("error-text").textContent = texts.length ? texts[texts.length - 1] : "";
}

// ---- identity --------------------------------------------------------------

function userName() {
  return $("user-name").value.trim();
}

function restoreIdentity() {
  $("user-name").value = localStorage.getItem(STORAGE.name) || "";
  $("guest").checked = localStorage.getItem(STORAGE.guest) === "true";
  $("user-name").addEventListener("input", () => localStorage.setItem(STORAGE.name, userName()));
  $("guest").addEventListener("change", () => localStorage.setItem(STORAGE.guest, String($("guest").checked)));
}

// What the server says about this browser (adapters/webchat/identity.py): the name typed
// here is only a label; who may do what follows the browser's signed cookie.
function identityNote(me) {
  const limit = `${me.guest_message_limit} messages per conversation`;
  if (me.mode === "open") {
    return "Open web chat: everyone here is a member and picks their own name. "
      + "Your name is only a label; this browser is who you are.";
  }
  if (me.member) return `Signed in as ${me.name}.`;
  if (me.mode === "proxy") return `You are a guest (${limit}): sign in through your organization's login to be a member.`;
  return `You are a guest (${limit}). To be a member, ask an operator for a sign-in link.`;
}

async function loadIdentity() {
  try {
    const me = await api.me();
    document.body.dataset.authMode = me.mode;
    $("identity-note").textContent = identityNote(me);
    if (me.name) {
      $("user-name").value = me.name;
      $("user-name").disabled = true;
    }
    if (!me.member) {
      $("guest").checked = true;
      $("guest").disabled = true;
    }
    clearError("identity");
  } catch (err) {
    showError(`Could not load who you are: ${err.message}`, "identity");
  }
}

// ---- routing: #/channel or #/channel/thread --------------------------------

function parseRoute() {
  const [channel, thread] = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  return { channel: channel || "general", thread: thread || null };
}

function go(channel, thread = null) {
  const hash = `#/${encodeURIComponent(channel)}${thread ? `/${encodeURIComponent(thread)}` : ""}`;
  if (location.hash === hash) applyRoute();
  else location.hash = hash;
}

async function applyRoute() {
  const { channel, thread } = parseRoute();
  state.thread = thread;
  if (channel !== state.channel) {
    state.channel = channel;
    state.messages = new Map();
    state.unread.delete(channel);
    renderChannels();
    renderThreadList();
    renderThread();
    await loadMessages(channel);
  }
  renderThread();
  renderThreadList();
  updateComposer();
}

// ---- channels --------------------------------------------------------------

async function refreshChannels() {
  try {
    const channels = await api.channels();
    clearError("channels");
    if (JSON.stringify(channels) !== JSON.stringify(state.channels)) {
      state.channels = channels;
      renderChannels();
    }
  } catch (err) {
    showError(`Could not load channels: ${err.message}`, "channels");
  }
}

function renderChannels() {
  const items = state.channels.map((channel) => {
    const unread = state.unread.get(channel.id) || 0;
    return el("li", {},
      el("button", {
        type: "button",
        class: channel.id === state.channel ? "channel active" : "channel",
        "data-testid": `channel-${channel.id}`,
        dataset: { channel: channel.id },
        title: channel.topic || null,
        "aria-current": channel.id === state.channel ? "page" : null,
        onclick: () => go(channel.id),
      },
      el("span", { class: "channel-name" }, `# ${channel.name}`),
      unread ? el("span", { class: "unread-badge", "data-testid": "unread-badge" }, String(unread)) : null));
  });
  $("channel-list").replaceChildren(...items);
  const current = state.channels.find((c) => c.id === state.channel);
  $("channel-title").textContent = `#${current ? current.name : state.channel}`;
  $("channel-topic").textContent = current ? current.topic || "" : "";
  document.title = `#${state.channel} · threadwork`;
}

// ---- messages --------------------------------------------------------------

function byTime(a, b) {
  return a.ts - b.ts || (a.id < b.id ? -1 : 1);
}

function sameContent(a, b) {
  return a.text === b.text && JSON.stringify(a.blocks) === JSON.stringify(b.blocks);
}

// Merge API results; a message the stream changed after the request started keeps the stream's version.
function mergeSnapshot(messages, startSeq) {
  for (const message of messages) {
    if ((state.touchedAt.get(message.id) || 0) > startSeq) continue;
    upsert(message);
  }
}

async function loadMessages(channel, thread = null) {
  const token = thread ? state.loadToken : ++state.loadToken;
  const startSeq = state.streamSeq;
  try {
    const messages = await api.messages(channel, thread);
    if (token !== state.loadToken || channel !== state.channel) return;
    clearError("load");
    mergeSnapshot(messages, startSeq);
    // What was there when the channel opened counts as seen; later activity is marked new.
    for (const t of threadsOf()) if (!state.seen.has(t.id)) state.seen.set(t.id, t.last);
    renderThreadList();
  } catch (err) {
    showError(`Could not load #${channel}: ${err.message}`, "load");
  }
}

function upsert(message) {
  const before = state.messages.get(message.id);
  if (before && sameContent(before, message)) return;
  state.messages.set(message.id, message);
  if (message.thread === state.thread) placeMessage(message, Boolean(before));
  scheduleThreadList();
}

function messageNode(id) {
  return $("messages").querySelector(`[data-message-id="${CSS.escape(id)}"]`);
}

function placeMessage(message, edited) {
  const node = messageNode(message.id);
  if (node) {
    if (edited) updateMessageElement(node, message);
    return;
  }
  const view = $("thread-view");
  const nearBottom = view.scrollHeight - view.scrollTop - view.clientHeight < 80;
  const list = $("messages");
  const later = [...list.children].find((n) => byTime(state.messages.get(n.dataset.messageId), message) > 0);
  list.insertBefore(messageElement(message), later || null);
  if (nearBottom || message.user === userName()) view.scrollTop = view.scrollHeight;
}

// ---- threads ---------------------------------------------------------------

function threadsOf() {
  const threads = new Map();
  for (const m of state.messages.values()) {
    if (!threads.has(m.thread)) threads.set(m.thread, { id: m.thread, root: null, replies: 0, last: 0 });
    const t = threads.get(m.thread);
    if (m.id === m.thread) t.root = m;
    else t.replies += 1;
    t.last = Math.max(t.last, m.ts);
  }
  return [...threads.values()].filter((t) => t.root).sort((a, b) => b.last - a.last);
}

let threadListQueued = false;
function scheduleThreadList() {
  if (threadListQueued) return;
  threadListQueued = true;
  requestAnimationFrame(() => {
    threadListQueued = false;
    renderThreadList();
  });
}

function renderThreadList() {
  const threads = threadsOf();
  const items = threads.map((t) => {
    if (t.id === state.thread) state.seen.set(t.id, t.last);
    const fresh = t.last > (state.seen.get(t.id) || 0);
    const classes = ["thread-item", t.id === state.thread ? "active" : "", fresh ? "has-new" : ""].join(" ").trim();
    return el("li", {},
      el("button", {
        type: "button", class: classes, "data-testid": "thread-item", dataset: { thread: t.id },
        "aria-current": t.id === state.thread ? "true" : null,
        onclick: () => go(state.channel, t.id),
      },
      el("span", { class: "thread-meta" },
        el("span", { class: "thread-author" }, t.root.user),
        el("time", { class: "thread-time" }, formatTime(t.last))),
      el("span", { class: "thread-summary", "data-testid": "thread-summary" }, summaryOf(t.root)),
      el("span", { class: "thread-replies" }, t.replies === 1 ? "1 reply" : `${t.replies} replies`)));
  });
  $("thread-list").replaceChildren(...items);
  $("thread-list-empty").hidden = threads.length > 0;
  const open = state.thread && state.messages.get(state.thread);
  $("thread-title").textContent = state.thread ? (open ? summaryOf(open) : "Thread") : `New thread in #${state.channel}`;
}

function renderThread() {
  const list = $("messages");
  $("new-thread-hint").hidden = Boolean(state.thread);
  $("close-thread").hidden = !state.thread;
  if (list.dataset.thread === (state.thread || "") && list.dataset.channel === state.channel) return;
  list.dataset.thread = state.thread || "";
  list.dataset.channel = state.channel;
  const messages = [...state.messages.values()].filter((m) => m.thread === state.thread).sort(byTime);
  list.replaceChildren(...messages.map(messageElement));
  $("thread-view").scrollTop = $("thread-view").scrollHeight;
  if (state.thread && !state.messages.has(state.thread)) loadMessages(state.channel, state.thread);
}

// ---- composer --------------------------------------------------------------

function updateComposer() {
  $("composer-input").placeholder = state.thread ? "Reply in this thread" : `Start a new thread in #${state.channel}`;
}

// The composer's author, or an error asking for one.
function composerUser() {
  const user = userName();
  if (!user) {
    $("user-name").focus();
    showError("Type your name first (under “Your name”).", "composer");
  }
  return user;
}

// After a post: open its thread and show it even if the stream lags.
async function showPosted(channel, thread, answer) {
  $("composer-input").value = "";
  state.draft = null;
  clearError("composer");
  if (!thread) go(channel, answer.thread);
  await loadMessages(channel, answer.thread);
}

async function send(event) {
  event.preventDefault();
  const input = $("composer-input");
  const text = input.value;
  if (!text.trim()) return showError("Type a message first.", "composer");
  const user = composerUser();
  if (!user) return;
  const { channel, thread } = state;
  const d = state.draft;
  if (!d || d.text !== text || d.channel !== channel || d.thread !== thread) {
    state.draft = { text, channel, thread, messageId: newMessageId() };
  }
  $("composer-send").disabled = true;
  try {
    const answer = await api.send({ channel, thread, user, text, guest: $("guest").checked, messageId: state.draft.messageId });
    await showPosted(channel, thread, answer);
  } catch (err) {
    showError(err.message, "composer");
    if (err.body?.thread && !thread) {
      // Stored but not processed (503): the thread exists; a resend retries the same message.
      state.draft.thread = err.body.thread;
      go(channel, err.body.thread);
    }
  } finally {
    $("composer-send").disabled = false;
    input.focus();
  }
}

// The chosen file goes up with the composer text as its caption.
async function attach() {
  const picker = $("composer-file");
  const file = picker.files && picker.files[0];
  picker.value = "";
  const user = file && composerUser();
  if (!user) return;
  const { channel, thread } = state;
  $("composer-attach").disabled = true;
  try {
    const text = $("composer-input").value.trim();
    const answer = await api.upload({ channel, thread, user, text, guest: $("guest").checked, file });
    await showPosted(channel, thread, answer);
  } catch (err) {
    showError(err.message, "composer");
    if (err.body?.thread && !thread) go(channel, err.body.thread);
  } finally {
    $("composer-attach").disabled = false;
  }
}

function onComposerKey(event) {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("composer").requestSubmit();
  }
}

// ---- buttons in bot messages ----------------------------------------------

async function onMessageClick(event) {
  const button = event.target.closest("button[data-action-id]");
  if (!button) return;
  const node = button.closest("[data-message-id]");
  const message = state.messages.get(node.dataset.messageId);
  const user = userName();
  if (!user) {
    $("user-name").focus();
    return addNote(node, "Type your name first (under “Your name”).", "error");
  }
  const group = [...button.closest(".block-buttons").querySelectorAll("button")];
  group.forEach((b) => { b.disabled = true; });
  button.classList.add("pending");
  try {
    const answer = await api.act({
      channel: message.channel, thread: message.thread, messageId: message.id,
      actionId: button.dataset.actionId, value: button.dataset.value, user,
    });
    if (answer && answer.ephemeral) addNote(node, answer.ephemeral);
  } catch (err) {
    addNote(node, err.message, "error");
  } finally {
    group.forEach((b) => { b.disabled = false; });
    button.classList.remove("pending");
  }
}

// ---- live updates ----------------------------------------------------------

function setLive(status, label) {
  $("live-status").dataset.state = status;
  $("live-status").textContent = label;
}

function onStreamEvent(event) {
  const { kind, message } = JSON.parse(event.data);
  state.streamSeq += 1;
  state.touchedAt.set(message.id, state.streamSeq);
  if (message.channel === state.channel) return upsert(message);
  if (!state.channels.some((c) => c.id === message.channel)) refreshChannels();
  if (kind === "new" && message.user !== userName()) {
    state.unread.set(message.channel, (state.unread.get(message.channel) || 0) + 1);
    renderChannels();
  }
}

function connectStream() {
  let dropped = false;
  const source = new EventSource("/webchat/api/stream");
  source.addEventListener("open", () => {
    setLive("live", "live");
    if (dropped) {
      // Missed events are replayed from Last-Event-ID; a reload also covers a new database.
      refreshChannels();
      if (state.channel) loadMessages(state.channel);
    }
    dropped = false;
  });
  source.addEventListener("message", onStreamEvent);
  source.addEventListener("error", () => {
    dropped = true;
    setLive("offline", "reconnecting…");
    if (source.readyState === EventSource.CLOSED) setTimeout(connectStream, STREAM_RECONNECT_MS);
  });
}

// ---- start -----------------------------------------------------------------

function start() {
  restoreIdentity();
  loadIdentity();
  $("composer").addEventListener("submit", send);
  $("composer-input").addEventListener("keydown", onComposerKey);
  $("composer-attach").addEventListener("click", () => $("composer-file").click());
  $("composer-file").addEventListener("change", attach);
  $("messages").addEventListener("click", onMessageClick);
  $("new-thread").addEventListener("click", () => { go(state.channel); $("composer-input").focus(); });
  $("close-thread").addEventListener("click", () => go(state.channel));
  $("error-dismiss").addEventListener("click", () => { errors.clear(); renderErrors(); });
  window.addEventListener("hashchange", applyRoute);
  connectStream();
  refreshChannels();
  applyRoute();
  setInterval(refreshChannels, CHANNEL_POLL_MS);
}

start();
