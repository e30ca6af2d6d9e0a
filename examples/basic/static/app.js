// The application's one script (the pages' Content-Security-Policy allows
// the site's own scripts). Without it the forms work as they are.
//
// A button that ends sessions asks first, in the words of its data-confirm
// attribute or its form's.
//
// A signed-in page listens for the end of its session on one stream, since
// a browser opens at most 6 HTTP/1.1 connections to a host: the home page on
// its clock (GET /clock, which stops the moment the session ends, its last
// event "ended" saying why), every other page on GET /session/events (the
// library's WatchHandler). When it ends, on any instance, the page turns
// into the one the server renders for it (GET /session/ended): the login
// page's notice of who, why and which device, and a way to sign in again,
// in place of the page's header and content, so that no form pretends to be
// signed in. "Your sessions" loads its list again when another session of
// the user ends.
"use strict";

document.addEventListener("submit", function (event) {
  var button = event.submitter;
  var question = (button && button.dataset.confirm) || event.target.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// leftAt is when the page was last being left (a form it sent, a link): a
// session this page's own request ended is then the next page's to tell,
// and a fetch or navigation from here would only get in its way. A
// navigation that never happens (Stop, a 204, a download) leaves the page
// here: what waited is done 3 s later (had the page left, it would not be).
var leftAt = -Infinity;
var leaveWait = 3000;
window.addEventListener("beforeunload", function () {
  leftAt = Date.now();
});
window.addEventListener("pageshow", function (event) {
  leftAt = -Infinity;
  if (event.persisted) {
    // Back from the back-forward cache, whose streams were closed: the
    // page may say a session that ended meanwhile is alive.
    window.location.reload();
  }
});

// leaving reports whether the page is being left; when it is, it runs
// retry after leaveWait.
function leaving(retry) {
  if (Date.now() - leftAt >= leaveWait) {
    return false;
  }
  window.setTimeout(retry, leaveWait);
  return true;
}

// fetchPage loads a page of the site and returns it parsed; headers are
// added to the request's.
function fetchPage(url, headers) {
  return fetch(url, { credentials: "same-origin", headers: Object.assign({ Accept: "text/html" }, headers) })
    .then(function (res) {
      if (!res.ok) {
        throw new Error(url + ": " + res.status);
      }
      return res.text();
    })
    .then(function (html) {
      return new DOMParser().parseFromString(html, "text/html");
    });
}

// showEnded puts the page the server renders for a tab whose session ended
// in place of this one's header and content; the clock, stopped, stays. why
// is the data of an event "ended" ({} when no reason came: the server then
// says what it knows).
var shownEnded = false;
function showEnded(why) {
  var again = function () {
    showEnded(why);
  };
  if (shownEnded || leaving(again)) {
    return;
  }
  var url = "/session/ended" + (why.reason === "expired" ? "?reason=expired" : "");
  fetchPage(url)
    .then(function (doc) {
      if (shownEnded || leaving(again)) {
        return;
      }
      shownEnded = true;
      var main = doc.querySelector("main");
      var clock = document.getElementById("clock");
      if (clock) {
        main.append(clock);
      }
      document.querySelector("header").replaceWith(document.adoptNode(doc.querySelector("header")));
      document.querySelector("main").replaceWith(document.adoptNode(main));
      document.title = doc.title;
      document.body.dataset.page = doc.body.dataset.page;
      document.body.dataset.user = doc.body.dataset.user;
    })
    .catch(function () {
      if (!leaving(again)) {
        window.location.assign("/login"); // the login page says why
      }
    });
}

// reloadSessions loads "Your sessions" again and puts its list in place.
// Responses may come out of order: only the latest request's is used.
var sessionsRequest = 0;
function reloadSessions() {
  if (leaving(reloadSessions)) {
    return; // the page that comes next lists them
  }
  var seq = ++sessionsRequest;
  fetchPage(window.location.href, { "X-Live-Reload": "1" }) // it takes no one-time message
    .then(function (doc) {
      if (seq !== sessionsRequest || leaving(reloadSessions)) {
        return; // a later request's answer is (or will be) the one shown
      }
      var fresh = doc.getElementById("sessions-live");
      var live = document.getElementById("sessions-live");
      if (fresh && live && doc.body.dataset.page === "sessions") {
        live.replaceWith(document.adoptNode(fresh));
      }
    })
    .catch(function () {}); // the list stays as it was; the next event or click tries again
}

// watch listens at /session/events on a signed-in page without the clock,
// which tells the end of the session itself.
function watch() {
  if (!document.body.dataset.user || document.getElementById("clock") || !window.EventSource) {
    return;
  }
  var events = new EventSource("/session/events");
  events.addEventListener("ended", function (event) {
    events.close();
    showEnded(JSON.parse(event.data));
  });
  events.addEventListener("sessions", function () {
    if (document.body.dataset.page === "sessions") {
      reloadSessions();
    }
  });
  events.addEventListener("error", function () {
    // 204: the session is gone with no recorded reason (a store that
    // forgot it, a restart); EventSource stops.
    if (events.readyState === EventSource.CLOSED) {
      showEnded({});
    }
  });
}

// clock streams the server's time on the home page until the session
// ends; its last event, "ended", is the page's too.
function clock() {
  var box = document.getElementById("clock");
  if (!box || !window.EventSource) {
    return;
  }
  var time = document.getElementById("clock-time");
  var stream = new EventSource("/clock");
  stream.addEventListener("message", function (event) {
    time.textContent = event.data;
  });
  stream.addEventListener("ended", function (event) {
    stream.close();
    var why = JSON.parse(event.data);
    box.dataset.stopped = why.reason;
    box.textContent = why.text;
    showEnded(why);
  });
  stream.addEventListener("error", function () {
    // 401: not signed in, with no recorded reason; EventSource stops.
    if (stream.readyState === EventSource.CLOSED && !("stopped" in box.dataset)) {
      box.dataset.stopped = "";
      box.textContent = "Stopped: this browser is not signed in.";
      if (document.body.dataset.user) {
        showEnded({});
      }
    }
  });
}

watch();
clock();
