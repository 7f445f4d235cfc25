// The sign-in page a `threadwork webchat invite NAME` link opens. The token is in the
// URL fragment (never sent in a request line, so never logged); it is redeemed only
// when the person clicks, so a link preview cannot use it up.

import { api } from "./api.js";

const $ = (id) => document.getElementById(id);
const token = decodeURIComponent(location.hash.replace(/^#/, ""));

async function signIn() {
  $("signin-button").disabled = true;
  try {
    const me = await api.signIn(token);
    history.replaceState(null, "", location.pathname);
    $("signin-status").textContent = `Signed in as ${me.name}. Opening the web chat…`;
    location.assign("/");
  } catch (err) {
    $("signin-status").textContent = err.message;
    $("signin-button").disabled = false;
  }
}

if (!token) {
  $("signin-status").textContent = "This link has no sign-in token; copy the whole link the operator gave you.";
  $("signin-button").disabled = true;
}
$("signin-button").addEventListener("click", signIn);
