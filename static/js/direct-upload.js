/* Direct uploads from the admin: ask the site for a presigned POST, send the file
   straight to S3 with a progress bar, then wait for the S3 event's verdict. */
(function () {
  "use strict";
  const form = document.getElementById("direct-upload-form");
  if (!form) return;

  const formError = form.querySelector("[data-form-error]");
  const status = form.querySelector("[data-status]");
  const progressBox = form.querySelector("[data-progress]");
  const progress = progressBox.querySelector("progress");
  const percent = progressBox.querySelector("[data-percent]");
  const submit = form.querySelector("input[type=submit]");

  function say(text) { status.textContent = text; }

  function showErrors(body) {
    formError.textContent = body.error || "The upload failed.";
    formError.hidden = false;
    for (const [field, messages] of Object.entries(body.fields || {})) {
      const list = form.querySelector(`[data-errors-for="${field}"]`) ||
                   form.querySelector('[data-errors-for="file"]');
      list.replaceChildren(...[].concat(messages).map((message) => {
        const item = document.createElement("li");
        item.textContent = message;
        return item;
      }));
      list.hidden = false;
    }
  }

  function clearErrors() {
    formError.hidden = true;
    form.querySelectorAll("[data-errors-for]").forEach((list) => {
      list.hidden = true;
      list.replaceChildren();
    });
  }

  function sendToStorage(grant, file) {
    return new Promise((resolve, reject) => {
      const data = new FormData();
      for (const [name, value] of Object.entries(grant.fields)) data.append(name, value);
      data.append("file", file);  // S3 wants the file last
      const request = new XMLHttpRequest();
      request.open("POST", grant.url);
      request.upload.addEventListener("progress", (event) => {
        if (!event.lengthComputable) return;
        const done = Math.round((100 * event.loaded) / event.total);
        progress.value = done;
        percent.textContent = `${done}%`;
      });
      request.addEventListener("load", () =>
        request.status >= 200 && request.status < 300
          ? resolve()
          : reject(new Error(`Storage refused the file (HTTP ${request.status}).`)));
      request.addEventListener("error", () => reject(new Error("The upload was interrupted.")));
      request.send(data);
    });
  }

  async function waitForVerdict(statusUrl) {
    for (let attempt = 0; attempt < 60; attempt += 1) {
      const response = await fetch(statusUrl, { credentials: "same-origin" });
      const body = await response.json();
      if (body.state === "accepted") return body;
      if (body.state === "rejected") throw new Error(`The file was rejected: ${body.reason}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    throw new Error("The file is still being checked; it will appear in the library when ready.");
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const file = form.elements.file.files[0];
    if (!file) {
      showErrors({ error: "Choose a file.", fields: { file: ["Choose a file."] } });
      return;
    }
    const details = {};
    for (const element of form.querySelectorAll("input[type=text]")) {
      details[element.name] = element.value;
    }
    submit.disabled = true;
    try {
      say("Asking for permission to upload…");
      const response = await fetch(form.dataset.signUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "X-CSRFToken": form.elements.csrfmiddlewaretoken.value,
        },
        body: JSON.stringify({
          kind: form.dataset.kind, filename: file.name, content_type: file.type,
          size: file.size, details,
        }),
      });
      const grant = await response.json();
      if (!response.ok) {
        showErrors(grant);
        say("");
        return;
      }
      progressBox.hidden = false;
      say("Uploading…");
      await sendToStorage(grant, file);
      say("Uploaded. Checking the file…");
      const verdict = await waitForVerdict(grant.status_url);
      say("Accepted.");
      window.location.assign(verdict.result_url);
    } catch (error) {
      showErrors({ error: error.message });
      say("");
    } finally {
      submit.disabled = false;
    }
  });
})();
