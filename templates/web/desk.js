// The editor's desk (digest preview). Served from the app, so the page's Content-Security-Policy needs no
// inline script. It sizes the email frames, reloads the page (keeping the scroll position) when a template or
// the store changes, and sends each desk action as a fetch, putting the answered fragment in place.
"use strict";
(() => {
  const body = document.body;
  const pollMs = Number(body.dataset.pollMs || 800);
  let version = body.dataset.version;
  const SCROLL_KEY = "digest-desk-scroll";

  function sizeFrames() {
    for (const frame of document.querySelectorAll("iframe")) {
      frame.addEventListener("load", () => {
        const doc = frame.contentDocument;
        if (doc) frame.style.height = (doc.documentElement.scrollHeight + 4) + "px";
      });
    }
  }

  function reloadPage() {
    try { sessionStorage.setItem(SCROLL_KEY, String(window.scrollY)); } catch (e) { /* private mode */ }
    location.reload();
  }

  async function poll() {
    try {
      const r = await fetch("/preview/state" + location.search, {cache: "no-store"});
      const state = await r.json();
      if (state.version !== version) { reloadPage(); return; }
    } catch (e) { /* the server is restarting: keep trying */ }
    setTimeout(poll, pollMs);
  }

  function restoreScroll() {
    let y = null;
    try { y = sessionStorage.getItem(SCROLL_KEY); sessionStorage.removeItem(SCROLL_KEY); } catch (e) { /* */ }
    if (y !== null) window.scrollTo(0, Number(y));
  }

  sizeFrames();
  restoreScroll();
  setTimeout(poll, pollMs);
})();
