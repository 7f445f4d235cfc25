// Buttons in bot messages: a click goes to the workflow that owns the message; its
// private answer (or the error) shows under that message, to this browser only.

import { api } from "./api.js";
import { addNote } from "./render.js";

const $ = (id) => document.getElementById(id);

// Stop: the session cancels the running turn; the message then ends with the text so far.
async function onStopClick(button, messageOf) {
  const node = button.closest("[data-message-id]");
  const message = messageOf(node.dataset.messageId);
  button.disabled = true;
  button.textContent = "Stopping…";
  try {
    const answer = await api.stop({ channel: message.channel, messageId: message.id, user: $("user-name").value.trim() || "someone" });
    if (answer && !answer.stopped && answer.detail) addNote(node, answer.detail);
  } catch (err) {
    button.disabled = false;
    button.textContent = "Stop";
    addNote(node, err.message, "error");
  }
}

async function onMessageClick(event, messageOf) {
  const stop = event.target.closest("button[data-stop]");
  if (stop) return onStopClick(stop, messageOf);
  const button = event.target.closest("button[data-action-id]");
  if (!button) return;
  const node = button.closest("[data-message-id]");
  const message = messageOf(node.dataset.messageId);
  const user = $("user-name").value.trim();
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

// messageOf(id) -> the stored message behind a rendered one.
export function setupActions(messageOf) {
  $("messages").addEventListener("click", (event) => onMessageClick(event, messageOf));
}
