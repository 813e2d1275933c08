/* The image chooser: a modal <dialog> in the page (not a popup window) that fetches the
   library's list (sitecontent/admin/chooser.py) into itself: search, pages, choose, or
   upload a new image and choose it. Used by the hero-image field (below) and by the rich
   text editor (prose-image-chooser.js) through window.sitecontentImageChooser.open(). */
(function () {
  "use strict";
  let dialog = null;
  let settle = null;  // resolves the open() in progress
  let returnFocus = null;
  let baseUrl = "";

  function build() {
    dialog = document.createElement("dialog");
    dialog.className = "image-chooser-dialog";
    dialog.setAttribute("aria-labelledby", "image-chooser-heading");
    const header = document.createElement("header");
    const heading = document.createElement("h2");
    heading.id = "image-chooser-heading";
    heading.textContent = "Choose an image";
    const close = document.createElement("button");
    close.type = "button";
    close.className = "button";
    close.textContent = "Close";
    close.addEventListener("click", () => finish(null));
    header.append(heading, close);
    const body = document.createElement("div");
    body.className = "image-chooser-body";
    body.dataset.body = "";
    const live = document.createElement("p");
    live.className = "visually-hidden";
    live.setAttribute("role", "status");
    live.dataset.live = "";
    dialog.append(header, body, live);
    // Esc (the dialog's cancel) and any other close settle the promise once.
    dialog.addEventListener("close", () => finish(null));
    dialog.addEventListener("keydown", trapFocus);
    body.addEventListener("click", onClick);
    body.addEventListener("submit", onSubmit);
    document.body.append(dialog);
  }

  /* A modal dialog makes the page behind it inert, but Tab from its last control would
     still leave for the browser's own toolbar: keep it going round inside. */
  function trapFocus(event) {
    if (event.key !== "Tab") return;
    const focusable = [...dialog.querySelectorAll(
      "button, [href], input, select, textarea, summary, [tabindex]:not([tabindex='-1'])",
    )].filter((element) => !element.disabled && element.getClientRects().length);
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  function say(text) { dialog.querySelector("[data-live]").textContent = text; }

  async function load(url) {
    const body = dialog.querySelector("[data-body]");
    body.setAttribute("aria-busy", "true");
    say("Loading images…");
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok) throw new Error(`The library could not be loaded (HTTP ${response.status}).`);
      // Rendered by the site's own template (everything escaped there), same origin.
      body.innerHTML = await response.text();
      const count = body.querySelectorAll(".image-choice").length;
      say(count ? `${count} images shown.` : "No images found.");
    } catch (error) {
      body.replaceChildren(Object.assign(document.createElement("p"), { className: "errornote", textContent: error.message }));
      say(error.message);
    } finally {
      body.removeAttribute("aria-busy");
    }
  }

  function choiceFrom(button) {
    const { id, url, thumb, title, alt, caption } = button.dataset;
    return { id, url, thumb, title, alt, caption };
  }

  function onClick(event) {
    const choice = event.target.closest(".image-choice");
    if (choice) {
      finish(choiceFrom(choice));
      return;
    }
    const link = event.target.closest("a[data-chooser-link]");
    if (link) {
      event.preventDefault();
      load(link.href).then(() => dialog.querySelector("#chooser-q")?.focus());
    }
  }

  async function onSubmit(event) {
    const form = event.target;
    event.preventDefault();
    if (form.matches("[data-chooser-search]")) {
      const query = new URLSearchParams(new FormData(form)).toString();
      await load(`${baseUrl}?${query}`);
      dialog.querySelector("#chooser-q")?.focus();
      return;
    }
    if (form.matches("[data-chooser-upload]")) await upload(form);
  }

  async function upload(form) {
    const status = form.querySelector("[data-upload-status]");
    const progress = form.querySelector("progress");
    const file = form.elements.file.files[0];
    if (!file) {
      status.textContent = "Choose a file.";
      return;
    }
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    progress.hidden = false;
    try {
      const verdict = await window.sitecontentUploads.upload({
        signUrl: form.dataset.signUrl,
        csrf: form.elements.csrfmiddlewaretoken.value,
        kind: "image",
        file,
        details: { title: form.elements.title.value, alt_text: form.elements.alt_text.value },
        onState(state) {
          status.textContent = state === "checking" ? "Checking the file…" : "Uploading…";
        },
        onProgress(percent) { progress.value = percent; },
      });
      const response = await fetch(`${baseUrl}?format=json&id=${verdict.result_id}`, { credentials: "same-origin" });
      const [choice] = (await response.json()).results;
      finish({ ...choice, id: String(choice.id) });
    } catch (error) {
      const reasons = Object.entries(error.fields || {}).map(([field, messages]) => `${field === "alt_text" ? "Alt text" : field.charAt(0).toUpperCase() + field.slice(1)}: ${[].concat(messages).join(" ")}`);
      status.textContent = reasons.length ? reasons.join(" ") : error.message;
      say(status.textContent);
    } finally {
      submit.disabled = false;
    }
  }

  function finish(choice) {
    if (!settle) return;
    const resolve = settle;
    settle = null;
    if (dialog.open) dialog.close();
    if (returnFocus && returnFocus.isConnected) returnFocus.focus();
    resolve(choice);
  }

  /* Resolves with {id, url, thumb, title, alt, caption}, or null if closed unchosen. */
  function open({ url, returnTo }) {
    if (!dialog) build();
    if (settle) finish(null);
    baseUrl = url;
    returnFocus = returnTo || document.activeElement;
    dialog.querySelector("[data-body]").replaceChildren();
    dialog.showModal();
    const result = new Promise((resolve) => { settle = resolve; });
    load(url).then(() => dialog.querySelector("#chooser-q")?.focus());
    return result;
  }

  window.sitecontentImageChooser = { open };

  // The hero-image field (ImageChooserWidget).
  function wireField(field) {
    const value = field.querySelector("[data-chooser-value]");
    const thumb = field.querySelector("[data-chooser-thumb]");
    const title = field.querySelector("[data-chooser-title]");
    const openButton = field.querySelector("[data-chooser-open]");
    const clear = field.querySelector("[data-chooser-clear]");
    function show(choice) {
      value.value = choice ? choice.id : "";
      thumb.hidden = !choice;
      thumb.src = choice ? choice.thumb : "";
      title.textContent = choice ? choice.title : "";
      clear.hidden = !choice;
      openButton.textContent = choice ? "Change image" : "Choose image";
      value.dispatchEvent(new Event("change", { bubbles: true }));
    }
    openButton.addEventListener("click", async () => {
      const choice = await open({ url: field.dataset.chooserUrl, returnTo: openButton });
      if (choice) show(choice);
    });
    clear.addEventListener("click", () => {
      show(null);
      openButton.focus();
    });
    // A restored autosave (editing.js) puts back the id alone: look the image up to show it.
    value.addEventListener("autosave:restored", async () => {
      if (!value.value) return show(null);
      const url = `${field.dataset.chooserUrl}?format=json&id=${encodeURIComponent(value.value)}`;
      const response = await fetch(url, { credentials: "same-origin" });
      const data = response.ok ? await response.json() : { results: [] };
      show(data.results[0] || null);
    });
  }

  function start() { document.querySelectorAll("[data-image-chooser]").forEach(wireField); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
