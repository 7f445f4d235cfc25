// The error banner: one text per source (channels, load, composer, ...); the newest shows.

const errors = new Map(); // source -> text

function render() {
  const texts = [...errors.values()];
  document.getElementById("error-banner").hidden = texts.length === 0;
  document.getElementById("error-text").textContent = texts.length ? texts[texts.length - 1] : "";
}

export function showError(text, source = "general") {
  errors.delete(source);
  errors.set(source, text);
  render();
}

export function clearError(source) {
  if (errors.delete(source)) render();
}

export function clearErrors() {
  errors.clear();
  render();
}
