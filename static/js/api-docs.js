/* Swagger UI for /api/v1/docs/ (sitecontent/api_docs.html), over the API's OpenAPI
   document. A file, not an inline script: the Content Security Policy allows none. */
(function () {
  "use strict";
  const root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") return;
  window.SwaggerUIBundle({
    url: root.dataset.schemaUrl,
    domNode: root,
    deepLinking: true,
    // No call to the public validator (swagger.io): nothing leaves the site.
    validatorUrl: null,
    // Read-only public API: "Try it out" works (same origin, GET only).
    supportedSubmitMethods: ["get"],
  });
})();
