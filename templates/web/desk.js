// The editor's desk (digest preview). Served from the app, so the page's Content-Security-Policy needs no
// inline script. Each desk form is sent by fetch; the answer is the desk's working part (#desk), put in place
// with the scroll position and the focus kept, and the email frames reload. Without this script the forms
// still work (the server answers with a redirect back to the story). The page also reloads, keeping its
// scroll position, when a template or the store changes from elsewhere.
"use strict";
(() => {
  const body = document.body;
  const pollMs = Number(body.dataset.pollMs || 800);
  let version = body.dataset.version;
  let busy = false;
  const SCROLL_KEY = "digest-desk-scroll";

  function reloadFrames() {
    for (const frame of document.querySelectorAll("iframe")) {
      try { frame.contentWindow.location.reload(); } catch (e) { frame.src = frame.src; }
    }
  }

  function reloadPage() {
    try { sessionStorage.setItem(SCROLL_KEY, String(window.scrollY)); } catch (e) { /* private mode */ }
    location.reload();
  }

  // a new version must be seen twice in a row: a connection opening and closing (the email frames reading
  // the store) touches the store's WAL file for a moment without changing anything
  let seen = null;
  async function poll() {
    if (!busy) {
      try {
        const r = await fetch("/preview/state" + location.search, {cache: "no-store"});
        const state = await r.json();
        if (state.version === version) seen = null;
        else if (state.version === seen && !busy) { reloadPage(); return; }
        else seen = state.version;
      } catch (e) { /* the server is restarting: keep trying */ }
    }
    setTimeout(poll, pollMs);
  }

  function restoreScroll() {
    let y = null;
    try { y = sessionStorage.getItem(SCROLL_KEY); sessionStorage.removeItem(SCROLL_KEY); } catch (e) { /* */ }
    if (y !== null) window.scrollTo(0, Number(y));
  }

  function focusAfter(formId, storyId) {
    // the same form's button if it is still there, else the story (or the list) it was about
    const form = formId && document.getElementById(formId);
    const button = form && form.querySelector("button:not([disabled])");
    const shown = button && !button.closest("details:not([open])") ? button : null;  // a closed box hides it
    const target = shown
      || (storyId && document.getElementById("story-" + storyId))
      || document.getElementById("notice");
    if (target) {
      if (!target.matches("button, a, input, select, textarea")) target.setAttribute("tabindex", "-1");
      target.focus({preventScroll: true});
    }
  }

  async function submit(form, submitter) {
    const desk = document.getElementById("desk");
    const data = new URLSearchParams(new FormData(form, submitter));
    const y = window.scrollY;
    busy = true;
    desk.classList.add("busy");
    try {
      const r = await fetch(form.getAttribute("action"), {  // not form.action: its input named "action" shadows it
        method: "POST",
        body: data,
        headers: {"X-Desk-Fragment": "1"},
        credentials: "same-origin",
        cache: "no-store",
      });
      const html = await r.text();
      if (!(r.headers.get("content-type") || "").startsWith("text/html")) throw new Error(html);
      desk.innerHTML = html;
      const top = desk.querySelector("[data-version]");
      if (top) { version = top.dataset.version; seen = null; }
      window.scrollTo(0, y);
      focusAfter(form.id, data.get("story"));
      // one live region outside the replaced part: a screen reader hears the notice, not the whole desk again
      const notice = document.getElementById("notice");
      document.getElementById("announce").textContent = notice ? notice.textContent.trim() : "";
      reloadFrames();
    } catch (e) {
      reloadPage();
    } finally {
      desk.classList.remove("busy");
      busy = false;
    }
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("act")) return;
    event.preventDefault();
    if (busy) return;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    submit(form, event.submitter);
  });

  restoreScroll();
  setTimeout(poll, pollMs);
})();
