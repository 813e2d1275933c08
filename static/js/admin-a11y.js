/* Accessible names for the widgets the admin's libraries build in the page, taken from
   the field's own <label>: select2's combobox and search box (autocomplete fields) and the
   rich text editor's editable area (Tiptap). Both are made after the page loads and some
   are made again later (a new inline, a reopened dropdown), so a MutationObserver
   labels whatever appears. Loaded on every admin page (templates/admin/base_site.html). */
(function () {
  "use strict";

  let counter = 0;

  function labelFor(id) {
    if (!id) return null;
    const label = document.querySelector(`label[for="${CSS.escape(id)}"]`);
    if (!label) return null;
    if (!label.id) label.id = `a11y-label-${++counter}`;
    return label;
  }

  function labelSelect2(container) {
    // select2 puts its container right after the <select> it replaces.
    const select = container.previousElementSibling;
    if (!select || select.tagName !== "SELECT") return;
    const label = labelFor(select.id);
    if (!label) return;
    const combobox = container.querySelector(".select2-selection[role=combobox], .select2-selection");
    if (combobox) {
      const rendered = container.querySelector(".select2-selection__rendered");
      const ids = [label.id];
      if (rendered && rendered.id && combobox.getAttribute("aria-labelledby") !== null) ids.push(rendered.id);
      const wanted = ids.join(" ");
      if (combobox.getAttribute("aria-labelledby") !== wanted) combobox.setAttribute("aria-labelledby", wanted);
      // select2 4.0 gives the shown choice role="textbox" of its own: name it too.
      if (rendered && rendered.getAttribute("role") && rendered.getAttribute("aria-labelledby") !== label.id) {
        rendered.setAttribute("aria-labelledby", label.id);
      }
    }
    // The "remove all" × of a multiple choice is a <span> straight inside the <ul> of
    // choices (not a list item); it is a mouse shortcut for what Backspace does.
    container.querySelectorAll("ul > .select2-selection__clear:not([aria-hidden])").forEach((clear) => {
      clear.setAttribute("aria-hidden", "true");
    });
    container.querySelectorAll(".select2-search__field").forEach((field) => {
      if (field.getAttribute("aria-labelledby") !== label.id) field.setAttribute("aria-labelledby", label.id);
    });
  }

  function labelOpenDropdown() {
    // The dropdown's search box lives at the end of <body> while it is open; it belongs
    // to the combobox that has aria-expanded="true".
    const open = document.querySelector(".select2-container--open .select2-selection[aria-expanded=true]");
    const search = document.querySelector(".select2-dropdown .select2-search__field");
    if (!open || !search) return;
    const first = (open.getAttribute("aria-labelledby") || "").split(" ")[0];
    if (first && search.getAttribute("aria-labelledby") !== first) search.setAttribute("aria-labelledby", first);
  }

  function labelEditor(editable) {
    const wrapper = editable.closest(".prose-editor");
    if (!wrapper) return;
    // django-prose-editor keeps the field's <textarea> (hidden) inside its wrapper.
    const textarea = wrapper.querySelector("textarea[id]");
    const label = labelFor(textarea && textarea.id);
    if (label && editable.getAttribute("aria-labelledby") !== label.id) {
      editable.setAttribute("aria-labelledby", label.id);
    }
  }

  function labelAll() {
    document.querySelectorAll("span.select2-container:not(.select2-container--open.select2-dropdown-container)").forEach(labelSelect2);
    document.querySelectorAll(".prose-editor [contenteditable]").forEach(labelEditor);
    labelOpenDropdown();
  }

  let queued = false;
  function schedule() {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      labelAll();
    });
  }

  function start() {
    labelAll();
    new MutationObserver(schedule).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
