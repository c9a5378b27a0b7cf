// nivesh-ml dashboard: the only script. Every page works without it; with it, parts marked
// data-refresh="URL" reload themselves, forms marked data-fragment submit in place, and
// buttons marked data-confirm ask first. Pages are same-origin: the session cookie goes along.
"use strict";
(function () {
  const REFRESH_MS = 5000;
  async function fragment(url, init) {
    const res = await fetch(url, Object.assign({ credentials: "same-origin", headers: { "X-Fragment": "1" } }, init || {}));
    if (res.status === 401 || res.status === 303) { window.location.assign("/ui/login?next=" + encodeURIComponent(location.pathname)); return null; }
    return { ok: res.ok, html: await res.text() };
  }
  function refresh(el) {
    const url = el.getAttribute("data-refresh");
    const every = Number(el.getAttribute("data-every") || REFRESH_MS);
    const tick = async () => {
      if (!document.hidden) {
        try {
          const got = await fragment(url);
          if (got && got.ok) { el.innerHTML = got.html; el.setAttribute("data-refreshed", new Date().toISOString()); }
          if (got && got.ok && el.querySelector("[data-final]")) { return; }
        } catch (e) { /* the next tick tries again */ }
      }
      setTimeout(tick, every);
    };
    setTimeout(tick, every);
  }
  function inPlace(form) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const target = document.getElementById(form.getAttribute("data-fragment"));
      const button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; }
      try {
        const got = await fragment(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)) });
        if (got && target) { target.innerHTML = got.html; target.focus(); }
      } catch (e) {
        if (target) { target.textContent = "The request failed: " + e; }
      } finally {
        if (button) { button.disabled = false; }
      }
    });
  }
  document.addEventListener("click", (ev) => {
    const b = ev.target.closest("[data-confirm]");
    if (b && !window.confirm(b.getAttribute("data-confirm"))) { ev.preventDefault(); }
  });
  document.querySelectorAll("[data-refresh]").forEach(refresh);
  document.querySelectorAll("form[data-fragment]").forEach(inPlace);
})();
