// The admin page's one script, served by the page itself (GET <mount>/admin.js)
// and allowed by its Content-Security-Policy (script-src 'self'). It asks
// before a button that ends sessions does what it says, in the words of the
// button's (or its form's) data-confirm attribute, where {users} stands for
// the users ticked in the form. With AdminConfig.WatchURL set (the body's
// data-watch), it listens there and goes to the login page (data-login) the
// moment the operator's own session ends, where the application can say
// why. Without it the forms work as they are, and JSON clients never meet it.
"use strict";

(function () {
  var watch = document.body.dataset.watch;
  if (!watch || !window.EventSource) {
    return;
  }
  // A page being left (a form it sent) leaves the end its own post caused
  // to the page that post leads to; going to the login page from here
  // would cut that navigation short. A navigation that never happens
  // (Stop, a 204, a download) leaves the page here: it goes 3 s later
  // (had the page left, it would not run).
  var leftAt = -Infinity;
  window.addEventListener("beforeunload", function () {
    leftAt = Date.now();
  });
  window.addEventListener("pageshow", function () {
    leftAt = -Infinity;
  });
  var toLogin = function () {
    if (Date.now() - leftAt < 3000) {
      window.setTimeout(toLogin, 3000);
      return;
    }
    window.location.replace(document.body.dataset.login);
  };
  var events = new EventSource(watch);
  events.addEventListener("ended", function () {
    events.close();
    toLogin();
  });
})();

document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = event.submitter;
  var question = (button && button.dataset.confirm) || form.dataset.confirm;
  if (!question) {
    return;
  }
  if (question.indexOf("{users}") >= 0) {
    var ticked = Array.from(form.querySelectorAll('input[name="user"]:checked'), function (box) {
      return box.value;
    });
    if (ticked.length === 0) {
      return; // nothing would end: the page says to tick someone
    }
    question = question.replace("{users}", names(ticked));
  }
  if (!window.confirm(question)) {
    event.preventDefault();
  }
});

// names lists users as a sentence does: "alice", "alice and bob",
// "alice, bob and carol", "alice, bob and 8 other users".
function names(list) {
  if (list.length === 1) {
    return list[0];
  }
  if (list.length <= 3) {
    return list.slice(0, -1).join(", ") + " and " + list[list.length - 1];
  }
  return list.slice(0, 2).join(", ") + " and " + (list.length - 2) + " other users";
}
