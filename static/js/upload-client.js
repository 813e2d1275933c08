/* One file through the direct-upload pipeline (sitecontent/admin/uploads.py): ask the
   site for a grant, POST the file where it says (S3 on AWS, the site's receive URL on a
   laptop) with progress events, then wait for the verdict. Shared by "Upload many" and
   the image chooser; the single upload page (direct-upload.js) runs the same steps. */
(function () {
  "use strict";

  class UploadError extends Error {
    constructor(message, fields, transient = false) {
      super(message);
      this.fields = fields || {};
      // A failure worth trying again: the server or storage was busy (5xx, 429) or the
      // connection dropped. S3 documents its 5xx as retryable; a refused grant or file
      // (4xx, a verdict) is not.
      this.transient = transient;
    }
  }

  const isTransient = (status) => status === 0 || status === 429 || status >= 500;
  const pause = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

  async function withRetries(step, attempts = 3) {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await step();
      } catch (error) {
        if (!error.transient || attempt >= attempts) throw error;
        await pause(500 * attempt);
      }
    }
  }

  async function sign({ signUrl, csrf, kind, file, details }) {
    const response = await fetch(signUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({
        kind, filename: file.name, content_type: file.type, size: file.size, details,
      }),
    });
    let body = {};
    try { body = await response.json(); } catch (error) { /* not JSON: say so below */ }
    if (!response.ok) {
      throw new UploadError(body.error || `The site refused the file (HTTP ${response.status}).`,
                            body.fields, isTransient(response.status));
    }
    return body;
  }

  function send(grant, file, csrf, onProgress) {
    return new Promise((resolve, reject) => {
      const data = new FormData();
      for (const [name, value] of Object.entries(grant.fields)) data.append(name, value);
      data.append("file", file);  // S3 wants the file last
      const request = new XMLHttpRequest();
      request.open("POST", grant.url);
      // Only the site's own receive URL takes (and needs) the CSRF token; S3 would
      // refuse an unexpected header in its CORS check.
      if (new URL(grant.url, window.location.href).origin === window.location.origin) {
        request.setRequestHeader("X-CSRFToken", csrf);
      }
      request.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) onProgress(Math.round((100 * event.loaded) / event.total));
      });
      request.addEventListener("load", () => {
        if (request.status >= 200 && request.status < 300) {
          onProgress(100);
          resolve();
          return;
        }
        let reason = `Storage refused the file (HTTP ${request.status}).`;
        try { reason = JSON.parse(request.responseText).error || reason; } catch (error) { /* XML from S3 */ }
        reject(new UploadError(reason, {}, isTransient(request.status)));
      });
      request.addEventListener("error", () => reject(new UploadError("The upload was interrupted.", {}, true)));
      request.send(data);
    });
  }

  async function verdict(statusUrl) {
    for (let attempt = 0; attempt < 60; attempt += 1) {
      let body = {};
      try {
        const response = await fetch(statusUrl, { credentials: "same-origin" });
        // A busy server is asked again at the next turn, as a pending file is.
        if (response.ok) body = await response.json();
      } catch (error) { /* offline for a moment, or not JSON: ask again */ }
      if (body.state === "accepted") return body;
      if (body.state === "rejected") throw new UploadError(body.reason);
      await pause(body.state ? 1000 : 500);
    }
    throw new UploadError("The file is still being checked; it will appear in the library when ready.");
  }

  /* onState("uploading" | "checking"), onProgress(percent); resolves with the status
     body ({state, result_url, ...}), rejects with an UploadError (fields per input). */
  async function upload({ signUrl, csrf, kind, file, details, onState, onProgress }) {
    const grant = await withRetries(() => sign({ signUrl, csrf, kind, file, details }));
    onState("uploading");
    await withRetries(() => send(grant, file, csrf, onProgress));
    onState("checking");
    return verdict(grant.status_url);
  }

  window.sitecontentUploads = { upload, UploadError };
})();
