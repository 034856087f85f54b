/* Starts Swagger UI on /api/docs with the document named by the page. A file of
 * its own because the Content Security Policy allows no inline script. */
(function () {
  'use strict';

  window.addEventListener('DOMContentLoaded', function () {
    const root = document.getElementById('swagger-ui');
    window.ui = SwaggerUIBundle({
      url: root.dataset.specUrl,
      domNode: root,
      deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis],
      layout: 'BaseLayout',
    });
  });
})();
