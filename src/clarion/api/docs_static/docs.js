// The API docs page: Swagger UI over clarion's OpenAPI document, every file from clarion.

"use strict";

(() => {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    // No badge from Swagger's public validator, which would be sent the document's URL
    // (this layout shows none; null keeps it so).
    validatorUrl: null,
  });
})();
