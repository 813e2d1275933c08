/* "Upload many": every chosen or dropped file becomes a row (title from its name, alt
   text for images); "Upload all" sends the rows through the direct-upload pipeline a few
   at a time, each with its own progress and verdict. A refused file stops no other, and
   stays in the list to be corrected and sent again. */
(function () {
  "use strict";
  const form = document.getElementById("bulk-upload-form");
  if (!form || !window.sitecontentUploads) return;

  const list = form.querySelector("[data-list]");
  const template = form.querySelector("[data-row-template]");
  const input = form.querySelector("input[type=file]");
  const dropZone = form.querySelector("[data-drop-zone]");
  const summary = form.querySelector("[data-summary]");
  const submit = form.querySelector("[data-submit]");
  const csrf = form.elements.csrfmiddlewaretoken.value;
  const parallel = Number(form.dataset.parallel) || 3;
  const maxBytes = Number(form.dataset.maxBytes);
  const rows = [];
  let counter = 0;
  let running = false;

  function titleFrom(name) {
    const stem = name.replace(/\.[^.]+$/, "").replace(/[-_.]+/g, " ").replace(/\s+/g, " ").trim();
    return stem ? stem.charAt(0).toUpperCase() + stem.slice(1) : name;
  }

  function setState(row, state, text, link) {
    row.element.dataset.state = state;
    row.state = state;
    const status = row.element.querySelector("[data-status]");
    status.replaceChildren(text);
    if (link) {
      const anchor = document.createElement("a");
      anchor.href = link;
      anchor.textContent = row.file.name;
      status.append(" ", anchor);
    }
    const editable = state === "waiting" || state === "rejected";
    row.element.querySelectorAll("input").forEach((field) => { field.readOnly = !editable; });
    row.element.querySelector("[data-remove]").hidden = !editable;
  }

  function addFiles(files) {
    for (const file of files) {
      counter += 1;
      const element = template.content.firstElementChild.cloneNode(true);
      const id = `bulk-${counter}`;
      element.querySelector("[data-filename]").textContent =
        `${file.name} (${(file.size / 2 ** 20).toFixed(1)} MB)`;
      element.querySelectorAll("label[data-for]").forEach((label) => {
        const field = element.querySelector(`input[name=${label.dataset.for}]`);
        field.id = `${id}-${label.dataset.for}`;
        label.htmlFor = field.id;
      });
      const progress = element.querySelector("progress");
      progress.setAttribute("aria-label", `Upload progress of ${file.name}`);
      element.querySelector("[data-status]").id = `${id}-status`;
      progress.setAttribute("aria-describedby", `${id}-status`);
      element.querySelector("input[name=title]").value = titleFrom(file.name);
      element.querySelector("[data-remove]").setAttribute("aria-label", `Remove ${file.name}`);
      const row = { file, element, state: "waiting" };
      element.querySelector("[data-remove]").addEventListener("click", () => {
        rows.splice(rows.indexOf(row), 1);
        element.remove();
        refresh();
      });
      rows.push(row);
      list.append(element);
      if (file.size > maxBytes) {
        setState(row, "rejected", `Rejected: over the ${Math.round(maxBytes / 2 ** 20)} MB limit.`);
      } else {
        setState(row, "waiting", "Waiting");
      }
    }
    refresh();
    // Images wait for their alt text: start the editor on the first one missing it.
    const missing = [...list.querySelectorAll("[data-state=waiting] input[name=alt_text]")]
      .find((field) => !field.value);
    if (missing) missing.focus();
  }

  function refresh() {
    submit.disabled = running || !rows.some((row) => row.state === "waiting" || row.state === "rejected");
  }

  function details(row) {
    const values = {};
    row.element.querySelectorAll("input[type=text]").forEach((field) => { values[field.name] = field.value; });
    return values;
  }

  async function send(row) {
    const progress = row.element.querySelector("progress");
    progress.value = 0;
    setState(row, "uploading", "Uploading 0%");
    try {
      const verdict = await window.sitecontentUploads.upload({
        signUrl: form.dataset.signUrl, csrf, kind: form.dataset.kind, file: row.file,
        details: details(row),
        onState(state) {
          if (state === "checking") setState(row, "checking", "Checking…");
        },
        onProgress(percent) {
          progress.value = percent;
          if (row.state === "uploading") setState(row, "uploading", `Uploading ${percent}%`);
        },
      });
      setState(row, "done", "Done:", verdict.result_url);
    } catch (error) {
      const reasons = Object.entries(error.fields || {}).map(([field, messages]) => {
        const label = row.element.querySelector(`label[data-for=${field}]`);
        return `${label ? label.textContent : "File"}: ${[].concat(messages).join(" ")}`;
      });
      setState(row, "rejected", `Rejected: ${reasons.length ? reasons.join(" ") : error.message}`);
    }
  }

  function announce() {
    const count = (state) => rows.filter((row) => row.state === state).length;
    const done = count("done");
    const rejected = count("rejected");
    summary.textContent = `${done} of ${rows.length} uploaded` +
      (rejected ? `; ${rejected} need attention (see each file's reason, correct it and upload again).` : ".");
  }

  async function uploadAll() {
    running = true;
    refresh();
    const queue = rows.filter((row) => row.state === "waiting" || row.state === "rejected");
    queue.forEach((row) => setState(row, "waiting", "Waiting"));
    summary.textContent = `Uploading ${queue.length} files…`;
    const worker = async () => {
      for (let row = queue.shift(); row; row = queue.shift()) await send(row);
    };
    await Promise.all(Array.from({ length: Math.min(parallel, queue.length) }, worker));
    running = false;
    refresh();
    announce();
  }

  input.addEventListener("change", () => {
    addFiles(input.files);
    input.value = "";
  });
  for (const name of ["dragenter", "dragover"]) {
    dropZone.addEventListener(name, (event) => {
      event.preventDefault();
      dropZone.classList.add("is-dragging");
    });
  }
  dropZone.addEventListener("dragleave", () => dropZone.classList.remove("is-dragging"));
  dropZone.addEventListener("drop", (event) => {
    event.preventDefault();
    dropZone.classList.remove("is-dragging");
    addFiles(event.dataTransfer.files);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!running) uploadAll();
  });
})();
