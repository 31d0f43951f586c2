// Starts ReDoc on /redoc from a static file: the CSP allows no inline script.
(function () {
  "use strict";
  var element = document.getElementById("redoc");
  Redoc.init(element.getAttribute("data-openapi-url"), {}, element);
})();
