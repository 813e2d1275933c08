/* The rich text editor's image browser: hand the chosen image back to the editor window
   (the CKEditor file-browser protocol django-prose-editor speaks) and close. */
(function () {
  "use strict";
  const list = document.querySelector(".image-browser");
  if (!list) return;
  // The buttons arrive disabled so a click before this script runs is not lost silently.
  if (window.opener && window.opener.CKEDITOR) {
    list.querySelectorAll(".image-choice").forEach((choice) => { choice.disabled = false; });
  }
  list.addEventListener("click", (event) => {
    const choice = event.target.closest(".image-choice");
    if (!choice || !window.opener || !window.opener.CKEDITOR) return;
    window.opener.CKEDITOR.tools.callFunction(list.dataset.callbackNumber, choice.dataset.url, {
      id: choice.dataset.id,
      alternative_text: choice.dataset.alt,
      caption: choice.dataset.caption,
    });
    window.close();
  });
})();
