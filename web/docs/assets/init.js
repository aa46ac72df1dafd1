// Renders openapi.yaml with Redoc (the bundle next to this file, embedded in
// the policyresults binary: the page loads nothing from outside the server).
(function () {
  var container = document.getElementById("redoc-container");
  window.Redoc.init(
    container.getAttribute("data-spec-url"),
    {
      expandResponses: "200",
      hideHostname: true,
      jsonSampleExpandLevel: 3,
      requiredPropsFirst: true,
      sortPropsAlphabetically: false,
      theme: {
        typography: {
          fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
          headings: { fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" },
          code: { fontFamily: "ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace" },
        },
      },
    },
    container,
    function (err) {
      if (err) {
        container.textContent = "The API reference could not be rendered: " + err;
        document.body.setAttribute("data-redoc", "error");
      } else {
        document.body.setAttribute("data-redoc", "ready");
      }
    }
  );
})();
