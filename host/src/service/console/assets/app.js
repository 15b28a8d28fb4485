// The payhost console: the page for this URL is rendered by the host, every
// value escaped there, and fetched with the API token as a header. The
// token is kept in this tab's session storage only: never in a URL, never
// in a cookie.
"use strict";

const KEY = "payhost.token";
const main = document.getElementById("main");
const signin = document.getElementById("signin");
const signout = document.getElementById("signout");
const notice = document.getElementById("notice");
let refresh = null;

function token() {
  return sessionStorage.getItem(KEY) || "";
}

function headers(extra) {
  const h = Object.assign({}, extra || {});
  const t = token();
  if (t) h["authorization"] = "Bearer " + t;
  return h;
}

function part() {
  const path = location.pathname.replace(/^\/console\/?/, "");
  return "/console/part/" + (path === "" ? "overview" : path) + location.search;
}

function say(text) {
  notice.textContent = text;
  notice.hidden = text === "";
}

async function problem(response) {
  try {
    const body = await response.json();
    return body.error.message + " (" + body.error.code + ")";
  } catch (_) {
    return "HTTP " + response.status;
  }
}

function showSignin(why) {
  main.hidden = true;
  signin.hidden = false;
  signout.hidden = true;
  document.getElementById("signin-why").textContent = why;
  document.getElementById("token").focus();
}

async function load() {
  clearTimeout(refresh);
  const response = await fetch(part(), { headers: headers(), cache: "no-store" });
  if (response.status === 401) {
    showSignin(token() ? "That token was not accepted: " + (await problem(response)) : "Sign in with an API token.");
    return;
  }
  signin.hidden = true;
  main.hidden = false;
  signout.hidden = token() === "";
  if (!response.ok) {
    main.replaceChildren();
    const p = document.createElement("p");
    p.className = "error";
    p.textContent = await problem(response);
    main.append(p);
    return;
  }
  // Rendered by the host with every value escaped; the page's policy runs
  // no inline script whatever it holds.
  main.innerHTML = await response.text();
  wire();
  const every = main.querySelector("[data-refresh]");
  if (every) refresh = setTimeout(load, Number(every.dataset.refresh) * 1000);
}

function wire() {
  for (const form of main.querySelectorAll("form[data-resolve]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const query = event.submitter && event.submitter.value === "query";
      const body = query ? { query: true } : { state: data.get("state"), note: data.get("note") };
      if (!query && !String(body.note || "").trim()) {
        say("Write a note: what the supplier said.");
        return;
      }
      const response = await fetch("/v1/payments/" + form.dataset.resolve + "/resolve", {
        method: "POST",
        headers: headers({ "content-type": "application/json" }),
        body: JSON.stringify(body),
      });
      say(response.ok ? "Settled." : "Not settled: " + (await problem(response)));
      await load();
    });
  }
}

document.getElementById("signin-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const field = document.getElementById("token");
  sessionStorage.setItem(KEY, field.value.trim());
  field.value = "";
  load();
});

signout.addEventListener("click", () => {
  sessionStorage.removeItem(KEY);
  showSignin("Signed out.");
});

load();
