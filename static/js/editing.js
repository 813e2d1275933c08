// No lost work on a change form (sitecontent.admin.editing): a heartbeat that shows who
// else is editing, autosaves a few seconds after each change and when the page is left,
// and restoring an autosave into the form's fields. Values only ever go into fields
// (.value, .checked, option text): nothing from the server is parsed as HTML here,
// except rich text, which the server sanitized and the editor re-parses with its schema.
"use strict";

(function () {
  const root = document.getElementById("editing-session");
  if (!root) return;
  const form = document.getElementById(root.dataset.formId);
  if (!form) return;
  const autosaveUrl = root.dataset.autosaveUrl;
  const heartbeatUrl = root.dataset.heartbeatUrl;
  const status = root.querySelector("[data-autosave-status]");
  const AUTOSAVE_DELAY = 3000;
  const RETRY_DELAY = 15000;

  function csrfToken() {
    const input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function baseInput() {
    return root.querySelector("[data-editing-base]");
  }

  function say(element, text) {
    if (!element) return;
    element.textContent = text;
    element.hidden = !text;
  }

  // -- presence ------------------------------------------------------------------

  function names(people) {
    const list = people.map((p) => p.name);
    if (list.length < 2) return list.join("");
    return list.slice(0, -1).join(", ") + " and " + list[list.length - 1];
  }

  function heartbeat() {
    const body = JSON.stringify({ base: baseInput() ? baseInput().value : "" });
    return fetch(heartbeatUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body,
    })
      .then((response) => response.json().then((data) => ({ ok: response.ok, data })))
      .then(({ ok, data }) => {
        if (!ok) {
          say(root.querySelector("[data-changed-text]"), data.error || "");
          return;
        }
        const others = data.others || [];
        say(
          root.querySelector("[data-presence-text]"),
          others.length
            ? names(others) + (others.length === 1 ? " is also editing this." : " are also editing this.")
            : "",
        );
        say(
          root.querySelector("[data-changed-text]"),
          // A refused save already shows what changed, in full.
          data.changed && !root.querySelector("[data-conflict]")
            ? data.changed.by + " saved changes at " + data.changed.at +
                ". When you save, you will see what changed before anything is overwritten."
            : "",
        );
      })
      .catch(() => {
        // Offline for a moment: the next beat tries again; the autosave keeps the work.
      });
  }

  function leave() {
    if (!heartbeatUrl) return;
    const data = new FormData();
    data.append("csrfmiddlewaretoken", csrfToken());
    data.append("leave", "1");
    navigator.sendBeacon(heartbeatUrl, data);
  }

  if (heartbeatUrl) {
    const interval = (parseInt(root.dataset.interval, 10) || 15) * 1000;
    heartbeat();
    window.setInterval(heartbeat, interval);
  }

  // -- autosave ------------------------------------------------------------------

  let dirty = false;
  let submitting = false;
  let timer = null;
  let inFlight = false;

  function formData() {
    const data = new FormData(form);
    for (const [name, value] of Array.from(data.entries())) {
      // Files go to storage by their own path; submit buttons say nothing of the content.
      if (value instanceof File || (name.startsWith("_") && name !== "_editing_base")) {
        data.delete(name);
      }
    }
    return data;
  }

  function now() {
    const d = new Date();
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }

  function autosave() {
    timer = null;
    if (!dirty || submitting) return;
    if (inFlight) {
      schedule();
      return;
    }
    inFlight = true;
    dirty = false;
    fetch(autosaveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
      body: formData(),
    })
      .then((response) => response.json().then((data) => ({ ok: response.ok, data })))
      .then(({ ok, data }) => {
        if (ok) {
          say(status, "Autosaved at " + data.saved_at + " (kept for you only until you save).");
        } else {
          dirty = true;
          say(status, data.error || "Autosave failed.");
        }
      })
      .catch(() => {
        dirty = true;
        say(status, "Offline: changes not autosaved yet (at " + now() + "). Keep this tab open.");
        window.setTimeout(schedule, RETRY_DELAY);
      })
      .finally(() => {
        inFlight = false;
      });
  }

  function schedule() {
    if (timer === null) timer = window.setTimeout(autosave, AUTOSAVE_DELAY);
  }

  function changed() {
    if (submitting) return;
    dirty = true;
    schedule();
  }

  function flush() {
    // The page is going away: whatever is unsaved goes in one beacon (the browser
    // sends it after the page is gone; it carries the form's CSRF token).
    if (dirty && !submitting) {
      if (navigator.sendBeacon(autosaveUrl, formData())) dirty = false;
    }
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  // Select2 (autocomplete fields) reports through jQuery only.
  if (window.django && window.django.jQuery) {
    window.django.jQuery(form).on("select2:select select2:unselect", changed);
  }
  form.addEventListener("submit", () => {
    submitting = true;
  });
  root.addEventListener("submit", () => {
    submitting = true;
  });
  window.addEventListener("online", () => {
    if (dirty) schedule();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") flush();
  });
  window.addEventListener("pagehide", () => {
    flush();
    leave();
  });

  // -- restoring an autosave -----------------------------------------------------

  function proseEditorOf(textarea) {
    const wrapper = textarea.closest(".prose-editor");
    const view = wrapper && wrapper.querySelector(".ProseMirror[contenteditable]");
    return view && view.editor ? view.editor : null;
  }

  function fill(element, values, labels) {
    const type = (element.type || "").toLowerCase();
    if (type === "checkbox" || type === "radio") {
      element.checked = values.includes(element.value);
    } else if (element.tagName === "SELECT") {
      for (const value of values) {
        if (!Array.from(element.options).some((o) => o.value === value)) {
          // Autocomplete selects hold only their current choices: add the restored one.
          element.add(new Option((labels && labels[value]) || value, value));
        }
      }
      for (const option of element.options) option.selected = values.includes(option.value);
      if (window.django && window.django.jQuery) window.django.jQuery(element).trigger("change");
    } else if (element.tagName === "TEXTAREA" && proseEditorOf(element)) {
      // The textarea is the editor's source of truth on submit; setContent updates it.
      proseEditorOf(element).commands.setContent(values[0] || "", { emitUpdate: true });
      element.value = values[0] || "";
    } else {
      element.value = values[0] || "";
      // Widgets that show more than their value (the image chooser) refresh themselves.
      element.dispatchEvent(new Event("autosave:restored", { bubbles: true }));
    }
  }

  function restore(button) {
    button.disabled = true;
    fetch(autosaveUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => response.json().then((data) => ({ ok: response.ok, data })))
      .then(({ ok, data }) => {
        if (!ok) throw new Error(data.error || "Could not restore.");
        for (const [name, values] of Object.entries(data.fields)) {
          const elements = Array.from(form.elements).filter((e) => e.name === name);
          const first = elements[0];
          // Hidden inputs are the form's own bookkeeping (CSRF, the version), except a
          // widget's value that says it may be restored (the image chooser's).
          const bookkeeping = first && first.type === "hidden" && !("restorable" in first.dataset);
          if (!first || bookkeeping || first.type === "file") continue;
          if (first.type === "checkbox" || first.type === "radio") {
            elements.forEach((e) => fill(e, values, null));
          } else {
            fill(first, values, (data.labels || {})[name]);
          }
        }
        // Continue from the version the autosave was made on: if the item changed
        // since, saving shows what changed instead of overwriting it.
        if (data.base && baseInput()) baseInput().value = data.base;
        root.querySelector("[data-autosave-offer]").hidden = true;
        say(status, "Restored your changes from " + data.saved_at + ". Review them and save.");
        dirty = true;
        schedule();
      })
      .catch((error) => {
        button.disabled = false;
        say(status, error.message);
      });
  }

  function discard(button) {
    button.disabled = true;
    const data = new FormData();
    data.append("csrfmiddlewaretoken", csrfToken());
    data.append("_discard", "1");
    fetch(autosaveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
      body: data,
    })
      .then((response) => {
        if (!response.ok) throw new Error("Could not discard.");
        root.querySelector("[data-autosave-offer]").hidden = true;
        say(status, "Discarded the unsaved changes.");
      })
      .catch((error) => {
        button.disabled = false;
        say(status, error.message);
      });
  }

  const restoreButton = root.querySelector("[data-restore]");
  if (restoreButton) restoreButton.addEventListener("click", () => restore(restoreButton));
  const discardButton = root.querySelector("[data-discard]");
  if (discardButton) discardButton.addEventListener("click", () => discard(discardButton));
})();
