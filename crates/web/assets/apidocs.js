/*
 * Shegong API docs page: starts Swagger UI on #swagger-ui.
 *
 * Lives in its own file because the page's CSP (script-src 'self') forbids
 * inline scripts. Requires vendor/swagger-ui/swagger-ui-bundle.js to be
 * loaded first (it defines the global SwaggerUIBundle).
 */
'use strict';

window.addEventListener('DOMContentLoaded', function () {
  if (typeof window.SwaggerUIBundle !== 'function') {
    return;
  }
  window.ui = window.SwaggerUIBundle({
    url: '/api/v1/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    // By default Swagger UI asks validator.swagger.io to check the spec and
    // shows a badge from there. That is an outside request the CSP blocks
    // (and intranet deployments cannot reach), so turn it off.
    validatorUrl: null
  });
});
