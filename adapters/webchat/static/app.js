// The threadwork web chat: channels, threads, a composer, live updates.
// State lives here; rendering of messages and blocks is in render.js.

import { setupActions } from "./actions.js";
import { api } from "./api.js";
import { BoundedMap } from "./bounded.js";
import { setComposerTarget, setupComposer } from "./composer.js";
import { el, formatTime } from "./dom.js";
import { clearError, clearErrors, showError } from "./errors.js";
import { startLive } from "./live.js";
import { messageElement, summaryOf, updateMessageElement } from "./render.js";

const $ = (id) => document.getElementById(id);
const CHANNEL_REFRESH_DELAY_MS = 1500;
const STORAGE = { name: "threadwork.name", guest: "threadwork.guest" };

const state = {
  channels: [],
  channel: null,
  thread: null,
  messages: new Map(), // id -> message, for the current channel
  unread: new Map(), // channel id -> messages arrived while elsewhere
  seen: new BoundedMap(1000), // thread id -> newest ts the user has seen (recent threads only)
  loadToken: 0,
  streamSeq: 0, // counts stream events, so a slower snapshot never overwrites a newer edit
  touchedAt: new Map(), // message id -> streamSeq of its last stream event, while a snapshot is loading
  loadsFrom: [], // streamSeq at the start of each snapshot request in flight
};

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

// touchedAt only guards snapshots in flight: forget what no pending request can be older than.
function finishLoad(startSeq) {
  state.loadsFrom.splice(state.loadsFrom.indexOf(startSeq), 1);
  const oldest = Math.min(...state.loadsFrom);
  for (const [id, seq] of state.touchedAt) if (seq <= oldest) state.touchedAt.delete(id);
}

async function loadMessages(channel, thread = null) {
  const token = thread ? state.loadToken : ++state.loadToken;
  const startSeq = state.streamSeq;
  state.loadsFrom.push(startSeq);
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
  } finally {
    finishLoad(startSeq);
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
  setComposerTarget(state.thread ? "Reply in this thread" : `Start a new thread in #${state.channel}`);
  document.body.dataset.view = state.thread ? "thread" : "channel";
}

// After a post: open its thread and show it even if the stream lags.
async function showPosted(channel, thread, answer) {
  if (!thread) go(channel, answer.thread);
  await loadMessages(channel, answer.thread);
}

// ---- live updates ----------------------------------------------------------

function setLive(status) {
  $("live-status").dataset.state = status;
  $("live-status").textContent = status === "live" ? "live" : "reconnecting…";
}

// Topics change with the incident they belong to: refresh once after a burst of edits.
let channelRefresh = null;
function refreshChannelsSoon() {
  clearTimeout(channelRefresh);
  channelRefresh = setTimeout(refreshChannels, CHANNEL_REFRESH_DELAY_MS);
}

function onStreamEvent({ kind, message }) {
  state.streamSeq += 1;
  if (state.loadsFrom.length) state.touchedAt.set(message.id, state.streamSeq);
  if (!state.channels.some((c) => c.id === message.channel)) refreshChannels();
  else if (kind === "update") refreshChannelsSoon();
  if (message.channel === state.channel) return upsert(message);
  if (kind === "new" && message.user !== userName()) {
    state.unread.set(message.channel, (state.unread.get(message.channel) || 0) + 1);
    renderChannels();
  }
}

// After a drop: missed events are replayed from Last-Event-ID; a reload also covers a new database.
function onReconnect() {
  refreshChannels();
  if (state.channel) loadMessages(state.channel);
}

// ---- start -----------------------------------------------------------------

function start() {
  restoreIdentity();
  loadIdentity();
  setupComposer({
    where: () => ({ channel: state.channel, thread: state.thread }),
    posted: showPosted,
    opened: (channel, thread) => go(channel, thread),
  });
  setupActions((id) => state.messages.get(id));
  $("new-thread").addEventListener("click", () => { go(state.channel); $("composer-input").focus(); });
  $("close-thread").addEventListener("click", () => go(state.channel));
  $("error-dismiss").addEventListener("click", clearErrors);
  window.addEventListener("hashchange", applyRoute);
  startLive({ onEvent: onStreamEvent, onStatus: setLive, onReconnect, poll: refreshChannels });
  refreshChannels();
  applyRoute();
}

start();
