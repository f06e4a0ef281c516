// Ticks the password rules under a password field while the user types. The server checks the
// policy again on submit; this only helps people see what is missing. No inline script (CSP).
(function () {
  "use strict";
  var checks = {
    length: function (pw, value) { return pw.length >= Number(value); },
    max: function (pw, value) { return pw.length <= Number(value) && pw.trim() === pw; },
    upper: function (pw) { return /[A-Z]/.test(pw); },
    lower: function (pw) { return /[a-z]/.test(pw); },
    number: function (pw) { return /[0-9]/.test(pw); },
    symbol: function (pw, value, symbols) {
      for (var i = 0; i < pw.length; i++) { if (symbols.indexOf(pw[i]) !== -1) { return true; } }
      return false;
    }
  };
  document.querySelectorAll("[data-password-rules]").forEach(function (list) {
    var input = document.getElementById(list.getAttribute("data-for"));
    if (!input) { return; }
    var symbols = list.getAttribute("data-symbols") || "";
    // The words screen readers hear, in the page's language (templates/hostedui/_field.html).
    var metText = list.getAttribute("data-met") || "met: ";
    var notMetText = list.getAttribute("data-not-met") || "not met: ";
    function update() {
      list.querySelectorAll("li[data-check]").forEach(function (item) {
        var check = checks[item.getAttribute("data-check")];
        if (!check) { return; }
        var met = input.value.length > 0 && check(input.value, item.getAttribute("data-value"), symbols);
        item.classList.toggle("met", met);
        var state = item.querySelector(".rule-state");
        if (state) { state.textContent = met ? metText : notMetText; }
      });
    }
    input.addEventListener("input", update);
    update();
  });
})();
