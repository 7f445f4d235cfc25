// Message text as formatted, safe DOM. Workflows write Markdown (the postmortem's
// headings, tables and task lists, `**bold**`, `_italic_`, `code`); people type it too.
// marked (GFM, line breaks kept as in Slack) turns it into HTML in which raw HTML from
// the message is already escaped back to text; DOMPurify then keeps only the tags a
// message may use, so nothing a message says can become markup, script or a remote image.

import { Marked } from "./vendor/marked.esm.js";
import DOMPurify from "./vendor/purify.es.js";
import { BoundedMap } from "./bounded.js";

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);

const marked = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  renderer: {
    // Raw HTML in a message is shown as the text it is.
    html: (token) => (token.block ? `<p class="md-raw">${escapeHtml(token.text)}</p>` : escapeHtml(token.text)),
    // Images would load from anywhere the message points: show a link instead.
    image: (token) => `<a href="${escapeHtml(token.href)}">${escapeHtml(token.text || token.href)}</a>`,
  },
});

const PURIFY = {
  ALLOWED_TAGS: [
    "p", "br", "strong", "em", "del", "code", "pre", "blockquote", "hr", "ul", "ol", "li", "input",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "a",
  ],
  ALLOWED_ATTR: ["href", "title", "align", "start", "type", "checked", "disabled", "class"],
  ALLOW_DATA_ATTR: false,
  RETURN_DOM_FRAGMENT: true,
};

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && /^https?:/i.test(node.getAttribute("href") || "")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
  if (node.tagName === "INPUT") {
    // Only GFM task-list boxes, and they only show state.
    if (node.getAttribute("type") !== "checkbox") node.remove();
    else node.setAttribute("disabled", "");
  }
  if (node.hasAttribute("class") && node.getAttribute("class") !== "md-raw") node.removeAttribute("class");
});

const SKIP_DECORATE = new Set(["A", "CODE", "PRE"]);

// Replace text nodes outside links and code with decorate(text) (nodes or strings).
function decorateText(root, decorate) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const texts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    let skip = false;
    for (let up = node.parentNode; up && up !== root; up = up.parentNode) skip ||= SKIP_DECORATE.has(up.nodeName);
    if (!skip) texts.push(node);
  }
  for (const node of texts) node.replaceWith(...decorate(node.data));
}

// A DocumentFragment of `text` rendered; `inline` for one-line places (fields, context),
// `decorate` for extra text-level rendering (e.g. conversation links) outside links and code.
export function markdown(text, { inline = false, decorate = null } = {}) {
  const source = String(text ?? "");
  const html = inline ? marked.parseInline(source) : marked.parse(source);
  const fragment = DOMPurify.sanitize(html, PURIFY);
  if (decorate) decorateText(fragment, decorate);
  return fragment;
}

const firstLines = new BoundedMap(500); // text -> first line: the thread list re-renders often

// The first line a reader sees, as plain text (thread list, titles): the first block's text.
export function firstLine(text) {
  const source = String(text ?? "");
  if (!firstLines.has(source)) firstLines.set(source, renderFirstLine(source));
  return firstLines.get(source);
}

function renderFirstLine(text) {
  const fragment = markdown(text);
  for (const br of fragment.querySelectorAll("br")) br.replaceWith(" ");
  const first = [...fragment.children].find((node) => node.textContent.trim());
  return (first ? first.textContent : fragment.textContent).replace(/\s+/g, " ").trim();
}
