// SPDX-License-Identifier: Apache-2.0
// "Your sessions" on the demo's /app/ page: the signed-in user's WorkOS sessions
// from WorkOSSessionsURI (GET /auth/sessions), with a button to sign out each
// other device and one to sign out everywhere else (POST revoke=..., which the
// module accepts from this site's own pages only). Listed when asked: each
// list is a call to WorkOS, counted against WorkOSSessionCallLimit.
"use strict";
(function () {
  const URI = "/auth/sessions";
  const box = document.getElementById("sessions");

  function cell(row, text) {
    const td = row.insertCell();
    td.textContent = text == null ? "-" : text;
    return td;
  }

  function button(label, revoke) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.dataset.revoke = revoke;
    b.addEventListener("click", () => revokeSession(revoke));
    return b;
  }

  function show(data) {
    box.replaceChildren();
    const h = document.createElement("h2");
    h.textContent = "Your sessions";
    const table = document.createElement("table");
    table.id = "session-list";
    const head = table.createTHead().insertRow();
    ["Started", "IP address", "Browser", ""].forEach((t) => cell(head, t));
    for (const s of data.sessions) {
      const row = table.insertRow();
      row.dataset.session = s.id;
      cell(row, s.createdAt);
      cell(row, s.ipAddress);
      cell(row, s.userAgent);
      const last = cell(row, s.current ? "this browser" : "");
      if (!s.current) last.replaceChildren(button("Sign out", s.id));
    }
    box.append(h, table);
    if (data.sessions.some((s) => !s.current))
      box.append(button("Sign out everywhere else", "others"));
  }

  function problem(text) {
    const p = document.createElement("p");
    p.className = "error";
    p.textContent = text;
    box.replaceChildren(p);
  }

  async function load() {
    const r = await fetch(URI, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!r.ok) return problem(`Sessions unavailable (${r.status}).`);
    show(await r.json());
  }

  async function revokeSession(which) {
    const r = await fetch(URI, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      body: new URLSearchParams({ revoke: which }),
    });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) return problem(`Could not sign out: ${body.error || r.status}.`);
    if (body.signedOut) return window.location.assign("/");
    load();
  }

  const show_button = document.getElementById("sessions-show");
  show_button.addEventListener("click", () =>
    load().catch((e) => problem(`Sessions unavailable (${e}).`)));
})();
