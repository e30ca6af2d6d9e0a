// The application's one script (the pages' Content-Security-Policy allows
// the site's own scripts): a button that ends sessions asks first, in the
// words of its data-confirm attribute or its form's. Without the script the
// forms work as they are.
"use strict";

document.addEventListener("submit", function (event) {
  var button = event.submitter;
  var question = (button && button.dataset.confirm) || event.target.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
