// The application's one script (the pages' Content-Security-Policy allows
// the site's own scripts). Without it the forms work as they are.
//
// A button that ends sessions asks first, in the words of its data-confirm
// attribute or its form's.
//
// A signed-in page listens for the end of its session (GET /session/events,
// the library's WatchHandler). When it ends, on any instance, the page turns
// into the one the server renders for it (GET /session/ended): the login
// page's notice of who, why and which device, and a way to sign in again,
// in place of the page's header and content, so that no form pretends to be
// signed in. "Your sessions" loads its list again when another session of
// the user ends. The home page's clock streams from GET /clock, which stops
// the moment the session ends.
"use strict";

document.addEventListener("submit", function (event) {
  var button = event.submitter;
  var question = (button && button.dataset.confirm) || event.target.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// leaving is set once the page is being left (a form it sent, a link):
// a session this page's own request ended is then the next page's to tell,
// and a fetch or navigation from here would only get in its way.
var leaving = false;
window.addEventListener("beforeunload", function () {
  leaving = true;
});
window.addEventListener("pageshow", function () {
  leaving = false; // back from the back-forward cache
});

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
// in place of this one's header and content; the clock, stopped, stays.
function showEnded(why) {
  if (leaving) {
    return;
  }
  var url = "/session/ended" + (why.reason === "expired" ? "?reason=expired" : "");
  fetchPage(url)
    .then(function (doc) {
      if (leaving) {
        return;
      }
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
      if (!leaving) {
        window.location.assign("/login"); // the login page says why
      }
    });
}

// reloadSessions loads "Your sessions" again and puts its list in place.
function reloadSessions() {
  if (leaving) {
    return; // the page that comes next lists them (and its GET shows the flash this one's would take)
  }
  fetchPage(window.location.href, { "X-Live-Reload": "1" }) // it takes no one-time message
    .then(function (doc) {
      if (leaving) {
        return;
      }
      var fresh = doc.getElementById("sessions-live");
      var live = document.getElementById("sessions-live");
      if (fresh && live && doc.body.dataset.page === "sessions") {
        live.replaceWith(document.adoptNode(fresh));
      }
    })
    .catch(function () {}); // the list stays as it was; the next event or click tries again
}

function watch() {
  if (!document.body.dataset.user || !window.EventSource) {
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
}

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
    box.dataset.stopped = JSON.parse(event.data).reason;
    box.textContent = JSON.parse(event.data).text;
  });
  stream.addEventListener("error", function () {
    if (stream.readyState === EventSource.CLOSED && !box.dataset.stopped) {
      box.dataset.stopped = "";
      box.textContent = "Stopped: this browser is not signed in.";
    }
  });
}

watch();
clock();
