// Starts ReDoc on /redoc. ReDoc writes its styles as <style> elements at run time; the page's
// Content-Security-Policy allows those by a nonce, which ReDoc needs as an option (browsers hide
// a `nonce` attribute from scripts, so it travels in a data attribute).
(function () {
  "use strict";
  var root = document.getElementById("redoc");
  Redoc.init(root.dataset.openapiUrl, { nonce: root.dataset.styleNonce }, root);
})();
