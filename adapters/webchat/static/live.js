// The one live event stream (server-sent events from /webchat/api/stream). While it is
// connected nothing polls; while it is down, `poll` runs every POLL_MS as a fallback
// until the stream is back (missed events are then replayed from Last-Event-ID).

const STREAM_URL = "/webchat/api/stream";
export const POLL_MS = 4000;
export const RECONNECT_MS = 3000;

// onEvent(data) per event; onStatus("live" | "offline"); onReconnect() after a drop.
export function startLive({ onEvent, onStatus, onReconnect, poll }) {
  let pollTimer = null;
  let dropped = false;

  function startPolling() {
    if (pollTimer === null) pollTimer = setInterval(poll, POLL_MS);
  }

  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = null;
  }

  function connect() {
    const source = new EventSource(STREAM_URL);
    source.addEventListener("open", () => {
      stopPolling();
      onStatus("live");
      if (dropped) onReconnect();
      dropped = false;
    });
    source.addEventListener("message", (event) => onEvent(JSON.parse(event.data)));
    source.addEventListener("error", () => {
      dropped = true;
      onStatus("offline");
      startPolling();
      // The browser retries by itself unless it gave up (CLOSED); then we start over.
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, RECONNECT_MS);
    });
  }

  connect();
}
