// Messages and the platform-neutral reply blocks (workflows/contracts.py) as DOM.
// A message element keeps its identity when the message is edited: only its
// header and body are rebuilt, so private notes and references stay.

import { el, formatTime, fullTime, initials, linkified } from "./dom.js";
import { firstLine, markdown } from "./markdown.js";

const BUTTON_STYLES = new Set(["default", "primary", "danger"]);

// Conversation and user links a workflow writes into text (workflows/contracts.py LINK_TOKEN):
// ⟦conv:webchat:{channel}:{thread}|label⟧ becomes a link that opens that channel or thread,
// ⟦user:{id}|label⟧ becomes "@label". Built with DOM APIs; the rest is linkified text.
const LINK_TOKEN = /\u27e6(conv|user):([^|\u27e7]*)\|([^\u27e7]*)\u27e7/g;

function conversationHref(target) {
  const [platform, channel, thread] = target.split(":");
  if (platform !== "webchat" || !channel) return null;
  const inThread = thread && thread !== "main";
  return `#/${encodeURIComponent(channel)}${inThread ? `/${encodeURIComponent(thread)}` : ""}`;
}

export function withLinks(text) {
  const source = String(text);
  const parts = [];
  let last = 0;
  for (const match of source.matchAll(LINK_TOKEN)) {
    if (match.index > last) parts.push(...linkified(source.slice(last, match.index)));
    const [, kind, target, label] = match;
    const href = kind === "conv" ? conversationHref(target) : null;
    parts.push(href
      ? el("a", { href, class: "conversation-link", "data-testid": "conversation-link" }, `#${label}`)
      : `${kind === "conv" ? "#" : "@"}${label}`);
    last = match.index + match[0].length;
  }
  if (last < source.length) parts.push(...linkified(source.slice(last)));
  return parts;
}

// The same text without links (thread list, titles).
export function plainText(text) {
  return String(text).replace(LINK_TOKEN, (_, kind, target, label) => `${kind === "conv" ? "#" : "@"}${label}`);
}

function textBlock(block) {
  const text = String(block.text ?? "");
  if (block.style === "heading") return el("h3", { class: "block-heading", "data-testid": "block-heading" }, plainText(text));
  if (block.style === "context") return el("div", { class: "block-context md", "data-testid": "block-context" }, markdown(text, { inline: true, decorate: withLinks }));
  return el("div", { class: "block-text md", "data-testid": "block-text" }, markdown(text, { decorate: withLinks }));
}

function fieldsBlock(block) {
  const fields = (block.fields || []).map(([label, value]) =>
    el("div", { class: "field", "data-testid": "field", dataset: { label: String(label) } },
      el("div", { class: "field-label" }, String(label)),
      el("div", { class: "field-value md", "data-testid": "field-value" }, markdown(String(value ?? ""), { inline: true, decorate: withLinks }))),
  );
  return el("div", { class: "block-fields", "data-testid": "block-fields" }, fields);
}

function buttonsBlock(block) {
  const buttons = (block.buttons || []).map((button) => {
    const style = BUTTON_STYLES.has(button.style) ? button.style : "default";
    return el("button", {
      type: "button",
      class: `action-button action-${style}`,
      "data-testid": "action-button",
      dataset: { actionId: button.action_id, value: button.value || "" },
    }, button.label);
  });
  return el("div", { class: "block-buttons", "data-testid": "block-buttons" }, buttons);
}

// A reply still being written (adapters/webchat/stream.py): the text so far, a typing/status
// line, the work steps, and a Stop button that cancels the turn (actions.js).
function streamBlock(block, message) {
  const steps = (block.steps || []).map((step) =>
    el("li", { class: `stream-step step-${String(step.state)}`, "data-testid": "stream-step" }, String(step.title)));
  return el("div", { class: "block-stream", "data-testid": "stream" },
    message.text ? el("div", { class: "block-text md", "data-testid": "block-text" }, markdown(message.text, { decorate: withLinks })) : null,
    steps.length ? el("ul", { class: "stream-steps" }, steps) : null,
    el("div", { class: "stream-footer" },
      el("span", { class: "stream-status", "data-testid": "stream-status", role: "status" },
        el("span", { class: "typing", "aria-hidden": "true" }, el("i"), el("i"), el("i")),
        message.text ? "writing…" : String(block.status || "thinking…")),
      block.stoppable === false ? null
        : el("button", { type: "button", class: "action-button action-danger stop-button", "data-testid": "stop-button", dataset: { stop: "true" } }, "Stop")));
}

export function isStreaming(message) {
  return (message.blocks || []).some((block) => block.type === "stream");
}

const RENDERERS = {
  stream: streamBlock,
  text: textBlock,
  fields: fieldsBlock,
  buttons: buttonsBlock,
  divider: () => el("hr", { class: "block-divider", "data-testid": "block-divider" }),
};

// The blocks of a message, or its text when there are none we can draw.
export function messageBody(message) {
  const rendered = (message.blocks || [])
    .map((block) => (RENDERERS[block.type] ? RENDERERS[block.type](block, message) : null))
    .filter(Boolean);
  if (rendered.length === 0) rendered.push(el("div", { class: "block-text md", "data-testid": "block-text" }, markdown(message.text || "", { decorate: withLinks })));
  return rendered;
}

function formatSize(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}

// A message's files as download links (only same-site upload paths become links).
function fileLinks(message) {
  const files = (message.files || []).map((file) => {
    const url = String(file.url || "");
    const name = String(file.name || "file");
    const label = `${name} (${formatSize(Number(file.size) || 0)})`;
    return el("li", { class: "message-file", "data-testid": "message-file" },
      url.startsWith("/webchat/uploads/")
        ? el("a", { href: url, download: name, "data-testid": "file-link" }, label)
        : label);
  });
  return files.length ? el("ul", { class: "message-files", "data-testid": "message-files" }, files) : null;
}

function header(message) {
  return el("header", { class: "message-header" },
    el("span", { class: "message-author", "data-testid": "message-author" }, message.user),
    message.is_bot ? el("span", { class: "bot-badge" }, "bot") : null,
    el("time", { class: "message-time", datetime: new Date(message.ts * 1000).toISOString(), title: fullTime(message.ts) },
      formatTime(message.ts)));
}

export function messageElement(message) {
  const node = el("li", {
    id: `msg-${message.id}`,
    class: `message ${message.is_bot ? "from-bot" : "from-user"}${isStreaming(message) ? " streaming" : ""}`,
    "data-testid": "message",
    dataset: { messageId: message.id, isBot: String(Boolean(message.is_bot)) },
  },
  el("div", { class: "avatar", "aria-hidden": "true" }, message.is_bot ? "tw" : initials(message.user)),
  el("div", { class: "message-main" },
    header(message),
    el("div", { class: "message-body", "data-testid": "message-body" }, messageBody(message)),
    fileLinks(message),
    el("div", { class: "message-notes" })));
  return node;
}

// Re-render an edited message inside the same element.
export function updateMessageElement(node, message) {
  node.querySelector(".message-header").replaceWith(header(message));
  node.querySelector(".message-body").replaceChildren(...messageBody(message));
  node.classList.toggle("streaming", isStreaming(message));
  if (isStreaming(message)) return; // a growing reply does not flash at every chunk
  node.classList.remove("just-updated");
  void node.offsetWidth; // restart the highlight animation
  node.classList.add("just-updated");
}

// A note only this browser sees (a click's ephemeral answer, or its error).
export function addNote(node, text, kind = "ephemeral") {
  const notes = node.querySelector(".message-notes");
  const note = el("div", { class: `note note-${kind}`, "data-testid": kind === "error" ? "action-error" : "ephemeral", role: kind === "error" ? "alert" : "status" },
    el("span", { class: "note-label" }, kind === "error" ? "Error" : "Only visible to you"),
    el("span", { class: "note-text" }, text),
    el("button", { type: "button", class: "link", "aria-label": "Dismiss", onclick: () => note.remove() }, "Dismiss"));
  notes.append(note);
  return note;
}

// One line for the thread list: the root message's heading, or its text's first block as plain text.
export function summaryOf(message) {
  const heading = (message.blocks || []).find((b) => b.type === "text" && b.style === "heading");
  const line = heading ? plainText(heading.text).replace(/\s+/g, " ").trim() : firstLine(plainText(message.text || ""));
  return line.length > 140 ? `${line.slice(0, 139)}…` : line;
}
