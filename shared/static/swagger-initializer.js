// Starts Swagger UI on #swagger-ui over the documents its data-urls attribute lists. A file of its own,
// not an inline script: the gateway's Content-Security-Policy allows scripts from the gateway only.
window.addEventListener("load", function () {
  var element = document.getElementById("swagger-ui");
  var urls = JSON.parse(element.getAttribute("data-urls"));
  window.ui = SwaggerUIBundle({
    urls: urls,
    "urls.primaryName": urls[0].name,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
    persistAuthorization: true,
    validatorUrl: null  // Swagger UI would otherwise ask validator.swagger.io about every document
  });
});
