// Cognate console: ask before actions that are hard to take back. Forms opt in with
// data-confirm="question". No inline handlers (the CSP refuses them), no eval.
"use strict";

document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
