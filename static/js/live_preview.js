// The live preview beside the change form (sitecontent.admin.preview).
//
// While the panel is open, every change to the form (typing, the rich text editor's
// input events, select and autocomplete choices) posts the whole form to the preview
// endpoint 800 ms after the last one. The endpoint keeps the rendering in the session and
// answers with the content checks and form errors; the iframe then reloads the rendering
// from a same-origin address, keeping its scroll position. Nothing is saved.
(function () {
  "use strict";

  const DEBOUNCE_MS = 800;
  const OPEN_KEY = "sitecontent.livePreview.open";
  const WIDTH_KEY = "sitecontent.livePreview.width";

  function start() {
    const panel = document.getElementById("live-preview");
    if (!panel) return;
    const form = document.getElementById(panel.dataset.form);
    if (!form) return;

    const toggle = panel.querySelector(".live-preview-toggle");
    const body = panel.querySelector(".live-preview-body");
    const frame = panel.querySelector(".live-preview-frame");
    const viewport = panel.querySelector(".live-preview-viewport");
    const status = panel.querySelector(".live-preview-status");
    const errorsBox = panel.querySelector(".live-preview-errors");
    const checksList = panel.querySelector(".content-checks-list");
    const noChecks = panel.querySelector(".content-checks-none");
    const widthButtons = panel.querySelectorAll("[data-width]");

    let timer = null;
    let inFlight = null;
    let version = 0;
    let width = Number(localStorage.getItem(WIDTH_KEY)) || 1280;

    function isOpen() {
      return !body.hidden;
    }

    function setOpen(open) {
      body.hidden = !open;
      toggle.setAttribute("aria-expanded", String(open));
      toggle.textContent = open ? toggle.dataset.closeLabel : toggle.dataset.openLabel;
      document.body.classList.toggle("live-preview-open", open);
      localStorage.setItem(OPEN_KEY, open ? "1" : "0");
      if (open) {
        fit();
        refresh();
      }
    }

    // The iframe keeps the chosen width (so the page lays out as on that screen) and is
    // scaled down to fit the panel.
    function fit() {
      frame.width = String(width);
      const room = viewport.clientWidth || width;
      const scale = Math.min(1, room / width);
      frame.style.transform = scale < 1 ? "scale(" + scale + ")" : "";
      viewport.style.height = Math.round(Number(frame.height) * scale) + "px";
    }

    function setWidth(value) {
      width = value;
      localStorage.setItem(WIDTH_KEY, String(value));
      widthButtons.forEach(function (button) {
        button.setAttribute("aria-pressed", String(Number(button.dataset.width) === value));
      });
      fit();
    }

    function schedule() {
      if (!isOpen()) return;
      clearTimeout(timer);
      timer = setTimeout(refresh, DEBOUNCE_MS);
    }

    function csrfToken() {
      const field = form.querySelector("input[name=csrfmiddlewaretoken]");
      return field ? field.value : "";
    }

    function showErrors(errors) {
      const list = errorsBox.querySelector("ul");
      list.replaceChildren();
      errors.forEach(function (error) {
        const item = document.createElement("li");
        item.textContent = (error.label ? error.label + ": " : "") + error.messages.join(" ");
        list.appendChild(item);
      });
      errorsBox.hidden = errors.length === 0;
    }

    function showChecks(checks) {
      checksList.replaceChildren();
      checks.forEach(function (check) {
        const item = document.createElement("li");
        item.className = "content-check content-check-" + check.severity;
        item.dataset.code = check.code;
        const label = document.createElement("strong");
        label.textContent = check.severity === "warning" ? gettextOr("Warning") : gettextOr("Note");
        item.append(label, " ", check.message);
        const field = fieldFor(check.where);
        if (field) {
          const go = document.createElement("button");
          go.type = "button";
          go.className = "button content-check-go";
          go.textContent = gettextOr("Go to the field");
          go.addEventListener("click", function () {
            field.scrollIntoView({ block: "center" });
            field.focus();
          });
          item.append(" ", go);
        }
        checksList.appendChild(item);
      });
      noChecks.hidden = checks.length > 0;
    }

    // The element to take the editor to for a check: the rich text editor for the body
    // (its textarea is hidden), the input otherwise; none if the form lacks the field.
    function fieldFor(name) {
      const input = form.querySelector("#id_" + name);
      if (!input) return null;
      const row = input.closest(".form-row, .fieldBox") || input.parentElement;
      const editor = row && row.querySelector(".ProseMirror[contenteditable=true]");
      if (editor) return editor;
      return input.offsetParent === null ? null : input;
    }

    function gettextOr(text) {
      return typeof window.gettext === "function" ? window.gettext(text) : text;
    }

    function reloadFrame(url) {
      let scrollY = 0;
      try {
        scrollY = frame.contentWindow ? frame.contentWindow.scrollY : 0;
      } catch (e) {
        scrollY = 0;
      }
      frame.addEventListener(
        "load",
        function () {
          try {
            frame.contentWindow.scrollTo(0, scrollY);
          } catch (e) {
            // A page that is not ours (never expected): leave it at the top.
          }
        },
        { once: true }
      );
      version += 1;
      frame.src = url + (url.indexOf("?") === -1 ? "?" : "&") + "v=" + version;
    }

    function refresh() {
      clearTimeout(timer);
      if (inFlight) inFlight.abort();
      inFlight = new AbortController();
      const data = new FormData(form);
      status.textContent = gettextOr("Updating the preview…");
      fetch(panel.dataset.endpoint, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
        signal: inFlight.signal,
      })
        .then(function (response) {
          return response.json().then(function (json) {
            return { ok: response.ok, json: json };
          });
        })
        .then(function (result) {
          if (!result.ok) {
            status.textContent = result.json.error || gettextOr("The preview could not be updated.");
            return;
          }
          showErrors(result.json.errors || []);
          showChecks(result.json.checks || []);
          reloadFrame(result.json.frame_url);
          status.textContent = gettextOr("Preview updated. Nothing is saved until you save.");
        })
        .catch(function (error) {
          if (error.name === "AbortError") return;
          status.textContent = gettextOr("The preview could not be updated.");
        });
    }

    toggle.addEventListener("click", function () {
      setOpen(!isOpen());
    });
    widthButtons.forEach(function (button) {
      button.addEventListener("click", function () {
        setWidth(Number(button.dataset.width));
      });
    });
    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    // Select2 (autocomplete fields) announces choices through jQuery only.
    if (window.django && window.django.jQuery) {
      window.django.jQuery(form).on("change select2:select select2:unselect", schedule);
    }
    window.addEventListener("resize", fit);

    setWidth(width);
    setOpen(localStorage.getItem(OPEN_KEY) === "1");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
