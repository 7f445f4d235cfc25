// The web chat's JSON API (adapters/webchat/routes.py). Every failure becomes an
// ApiError whose message is what the server said, so the page can show it as is.

export class ApiError extends Error {
  constructor(message, status, body) {
    super(message);
    this.status = status;
    this.body = body || {};
  }
}

async function call(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      // A FormData body sets its own multipart Content-Type (with the boundary).
      headers: body === undefined || body instanceof FormData ? {} : { "Content-Type": "application/json" },
      body: body === undefined || body instanceof FormData ? body : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(`Cannot reach the threadwork server (${err.message}).`, 0);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const reason = data && data.error ? data.error : `${response.status} ${response.statusText}`;
    throw new ApiError(reason, response.status, data);
  }
  return data;
}

export const api = {
  // -> {mode, id, member, name, guest_message_limit}: who the server says this browser is
  me: () => call("GET", "/webchat/api/me"),

  // redeem a one-time sign-in link's token -> the same as me()
  signIn: (token) => call("POST", "/webchat/api/signin", { token }),

  channels: () => call("GET", "/webchat/api/channels"),

  messages(channel, thread) {
    const query = thread ? `?thread=${encodeURIComponent(thread)}` : "";
    return call("GET", `/webchat/api/channels/${encodeURIComponent(channel)}/messages${query}`);
  },

  // -> {session_id, message_id, thread}
  send: ({ channel, thread, user, text, guest, messageId }) =>
    call("POST", "/webchat/api/messages", { channel, thread, user, text, guest, message_id: messageId }),

  // multipart upload of one file, the composer text as its caption -> {session_id, message_id, thread}
  upload({ channel, thread, user, text, guest, file }) {
    const form = new FormData();
    form.append("channel", channel);
    if (thread) form.append("thread", thread);
    form.append("user", user);
    form.append("guest", guest ? "true" : "false");
    if (text) form.append("text", text);
    form.append("file", file, file.name);
    return call("POST", "/webchat/api/uploads", form);
  },

  // -> {ephemeral}
  act: ({ channel, thread, messageId, actionId, value, user }) =>
    call("POST", "/webchat/api/actions", {
      channel, thread, message_id: messageId, action_id: actionId, value, user,
    }),

  // stop the reply streaming into a bot message -> {stopped, detail}
  stop: ({ channel, messageId, user }) => call("POST", "/webchat/api/stop", { channel, message_id: messageId, user }),
};

export function newMessageId() {
  if (window.crypto && crypto.randomUUID) return `web-${crypto.randomUUID()}`;
  return `web-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}
