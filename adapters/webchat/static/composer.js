// The composer: text, one staged attachment, Send. Attach only stages the file (a chip
// beside the composer, with Remove); Send sends text and file together, the text as the
// file's caption. A failed send keeps text and file so the user can simply send again.

import { api, newMessageId } from "./api.js";
import { el } from "./dom.js";
import { clearError, showError } from "./errors.js";

const $ = (id) => document.getElementById(id);

let staged = null; // the File chosen under Attach, until it is sent or removed
let draft = null; // {text, channel, thread, messageId}: a retry of the same text reuses its id

function formatSize(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}

function renderAttachment() {
  const box = $("composer-attachment");
  box.hidden = !staged;
  box.replaceChildren(...(staged ? [
    el("span", { class: "attachment-chip", "data-testid": "attachment-chip", title: staged.name },
      el("span", { class: "attachment-name", "data-testid": "attachment-name" }, staged.name),
      el("span", { class: "attachment-size" }, formatSize(staged.size)),
      el("button", {
        type: "button", class: "attachment-remove", "data-testid": "attachment-remove",
        "aria-label": `Remove ${staged.name}`, onclick: () => stage(null),
      }, "×")),
  ] : []));
  $("composer-input").placeholder = staged ? "Add a caption (optional)" : $("composer-input").dataset.placeholder || "";
}

function stage(file) {
  staged = file || null;
  renderAttachment();
  $("composer-input").focus();
}

// The composer's author, or an error asking for one.
function composerUser() {
  const user = $("user-name").value.trim();
  if (!user) {
    $("user-name").focus();
    showError("Type your name first (under “Your name”).", "composer");
  }
  return user;
}

function sendText(where, user, text) {
  const { channel, thread } = where;
  if (!draft || draft.text !== text || draft.channel !== channel || draft.thread !== thread) {
    draft = { text, channel, thread, messageId: newMessageId() };
  }
  return api.send({ channel, thread, user, text, guest: $("guest").checked, messageId: draft.messageId });
}

// where() -> {channel, thread}; posted(channel, thread, answer) opens and loads the thread;
// opened(channel, thread) shows a thread that exists although its message was not processed.
export function setupComposer({ where, posted, opened }) {
  const input = $("composer-input");

  async function send(event) {
    event.preventDefault();
    const text = input.value;
    if (!text.trim() && !staged) return showError("Type a message or attach a file first.", "composer");
    const user = composerUser();
    if (!user) return;
    const target = where();
    $("composer-send").disabled = true;
    $("composer-attach").disabled = true;
    try {
      const answer = staged
        ? await api.upload({ ...target, user, text: text.trim(), guest: $("guest").checked, file: staged })
        : await sendText(target, user, text);
      input.value = "";
      draft = null;
      stage(null);
      clearError("composer");
      await posted(target.channel, target.thread, answer);
    } catch (err) {
      showError(err.message, "composer");
      // A file that reached the server is stored even when it was not processed: do not send it twice.
      if (staged && err.body?.thread) {
        input.value = "";
        stage(null);
      }
      // Stored but not processed (503): the thread exists; a resend retries the same message.
      if (err.body?.thread && !target.thread) {
        if (draft) draft.thread = err.body.thread;
        opened(target.channel, err.body.thread);
      }
    } finally {
      $("composer-send").disabled = false;
      $("composer-attach").disabled = false;
      input.focus();
    }
  }

  $("composer").addEventListener("submit", send);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("composer-attach").addEventListener("click", () => $("composer-file").click());
  $("composer-file").addEventListener("change", () => {
    const picker = $("composer-file");
    const file = picker.files && picker.files[0];
    picker.value = "";
    if (file) stage(file);
  });
}

// The placeholder for where the next message goes (a chip's caption hint wins).
export function setComposerTarget(placeholder) {
  $("composer-input").dataset.placeholder = placeholder;
  if (!staged) $("composer-input").placeholder = placeholder;
}
