// The draft editor's check as the user types (web/console/program.py): the text is sent to
// /console/program/draft/validate.json a moment after typing stops, and each error is listed
// with its path and line under the editor. The page works without this: Validate does the same.
"use strict";
(function () {
  const form = document.getElementById("draft-form");
  const editor = document.getElementById("draft-source");
  const out = document.getElementById("live-problems");
  if (!form || !editor || !out) return;
  const address = form.getAttribute("action") + ".json";
  const csrf = form.querySelector('input[name="csrf"]').value;
  let timer = null;
  let asked = 0;

  function show(answer) {
    out.textContent = "";
    if (answer.valid) {
      out.textContent = out.dataset.valid;
      return;
    }
    const list = document.createElement("ul");
    for (const problem of answer.problems) {
      const item = document.createElement("li");
      const path = document.createElement("code");
      path.textContent = problem.path || out.dataset.file;
      const line = problem.line ? " " + out.dataset.line + " " + problem.line : "";
      item.append(path, line + ": " + problem.message);
      list.append(item);
    }
    out.append(list);
  }

  async function check() {
    const mine = ++asked;
    const body = new URLSearchParams({ csrf: csrf, source: editor.value });
    const answer = await fetch(address, { method: "POST", body: body, credentials: "same-origin" });
    if (mine === asked && answer.ok) show(await answer.json());
  }

  editor.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(check, 500);
  });
})();
