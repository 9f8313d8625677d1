/* sentoffers web UI: progressive enhancement only. Every page works without this file,
   except live updates. Text from the server is only ever inserted as text (textContent)
   or as whole server-rendered, server-escaped pages parsed by DOMParser. */
(function () {
  "use strict";

  var parser = new DOMParser();

  function announce(message) {
    var region = document.getElementById("live-status");
    if (!region) return;
    region.textContent = "";
    window.setTimeout(function () {
      region.textContent = message;
    }, 50);
  }

  function fetchPage(url) {
    return fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
      cache: "no-store",
    }).then(function (response) {
      if (response.redirected && new URL(response.url).pathname === "/signin") {
        window.location.assign(response.url);
        throw new Error("signed out");
      }
      return response.text().then(function (html) {
        return { status: response.status, doc: parser.parseFromString(html, "text/html") };
      });
    });
  }

  /* Evidence: the magnifier opens a dialog with the log's request and response. */

  var dialogOpener = null;
  var pendingRefresh = false;

  function showEvidenceButtons(root) {
    root.querySelectorAll("button[data-evidence-url]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function fillEvidence(body, doc) {
    body.replaceChildren();
    var parts = doc ? doc.querySelectorAll("[data-evidence-part]") : [];
    if (!parts.length) {
      var failed = document.createElement("p");
      failed.textContent = "The evidence could not be loaded. Reload the page and try again.";
      body.appendChild(failed);
      return;
    }
    parts.forEach(function (part, index) {
      var heading = part.querySelector("h2");
      var source = part.querySelector("pre");
      var title = document.createElement("h3");
      title.id = "evidence-part-" + index;
      title.textContent = heading ? heading.textContent : "";
      var pre = document.createElement("pre");
      pre.className = "code";
      pre.tabIndex = 0;
      pre.setAttribute("aria-labelledby", title.id);
      pre.textContent = source ? source.textContent : "";
      body.appendChild(title);
      body.appendChild(pre);
    });
  }

  function openEvidence(button) {
    var dialog = document.getElementById("evidence-dialog");
    if (!dialog || typeof dialog.showModal !== "function") {
      window.location.assign(button.getAttribute("data-evidence-url"));
      return;
    }
    var body = dialog.querySelector("[data-evidence-body]");
    body.replaceChildren();
    var loading = document.createElement("p");
    loading.textContent = "Loading…";
    body.appendChild(loading);
    dialogOpener = button;
    dialog.showModal();
    fetchPage(button.getAttribute("data-evidence-url"))
      .then(function (page) {
        fillEvidence(body, page.status === 200 ? page.doc : null);
      })
      .catch(function () {
        fillEvidence(body, null);
      });
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var opener = target.closest("button[data-evidence-url]");
    if (opener) {
      openEvidence(opener);
      return;
    }
    var closer = target.closest("[data-close-dialog]");
    if (closer) {
      var dialog = closer.closest("dialog");
      if (dialog) dialog.close();
    }
  });

  function onDialogClosed(event) {
    var dialog = event.target;
    if (!(dialog instanceof HTMLDialogElement)) return;
    var opener = dialogOpener;
    dialogOpener = null;
    if (opener && opener.id && !document.contains(opener)) {
      opener = document.getElementById(opener.id);
    }
    if (opener && document.contains(opener)) opener.focus();
    if (pendingRefresh) {
      pendingRefresh = false;
      refresh();
    }
  }
  // "close" does not bubble; listen in the capture phase for every dialog, present or
  // swapped in later.
  document.addEventListener("close", onDialogClosed, true);

  /* Live updates: an EventSource says the page changed; the page's <main> is fetched
     again and swapped in, keeping scroll, focus and open details where they were. */

  var source = null;
  var refreshing = false;

  function liveUrl() {
    var main = document.getElementById("content");
    return main ? main.getAttribute("data-live") : null;
  }

  function connect() {
    var url = liveUrl();
    if (source) {
      source.close();
      source = null;
    }
    if (!url || typeof EventSource === "undefined") return;
    source = new EventSource(url);
    source.addEventListener("update", function () {
      refresh();
    });
    source.addEventListener("signedout", function () {
      source.close();
      announce("Your session has ended. Reload the page to sign in again.");
    });
  }

  function openDialog() {
    return document.querySelector("dialog[open]");
  }

  function focusKey(element) {
    if (!element || element === document.body) return null;
    if (element.id) return "#" + element.id;
    var link = element.closest("a[href]");
    if (link) return 'a[href="' + CSS.escape(link.getAttribute("href")) + '"]';
    var named = element.closest("[name]");
    if (named) return '[name="' + CSS.escape(named.getAttribute("name")) + '"]';
    var details = element.closest("details[id]");
    if (details && element.tagName === "SUMMARY") return "#" + details.id + " > summary";
    return null;
  }

  function swap(doc) {
    var main = document.getElementById("content");
    var fresh = doc.getElementById("content");
    if (!main || !fresh) return false;
    var scrollY = window.scrollY;
    var active = document.activeElement;
    var hadFocus = active && main.contains(active);
    var key = hadFocus ? focusKey(active) : null;
    var openDetails = Array.prototype.map.call(
      main.querySelectorAll("details[open][id]"),
      function (details) {
        return details.id;
      }
    );
    // A static copy first: adopting a node removes it from the live childNodes list.
    var nodes = Array.prototype.slice.call(fresh.childNodes).map(function (node) {
      return document.adoptNode(node);
    });
    main.replaceChildren.apply(main, nodes);
    var live = fresh.getAttribute("data-live");
    if (live) main.setAttribute("data-live", live);
    else main.removeAttribute("data-live");
    openDetails.forEach(function (id) {
      var details = document.getElementById(id);
      if (details && details.tagName === "DETAILS") details.open = true;
    });
    if (doc.title) document.title = doc.title;
    showEvidenceButtons(main);
    if (hadFocus) {
      var again = key ? main.querySelector(key) : null;
      (again || main).focus({ preventScroll: true });
    }
    window.scrollTo(0, scrollY);
    return true;
  }

  function refresh() {
    if (openDialog()) {
      pendingRefresh = true;
      return;
    }
    if (refreshing) {
      pendingRefresh = true;
      return;
    }
    refreshing = true;
    fetchPage(window.location.href)
      .then(function (page) {
        if (swap(page.doc)) {
          announce("Updated");
          if (page.status === 200) connect();
          else if (source) source.close();
        }
      })
      .catch(function () {})
      .then(function () {
        refreshing = false;
        if (pendingRefresh && !openDialog()) {
          pendingRefresh = false;
          refresh();
        }
      });
  }

  function start() {
    showEvidenceButtons(document);
    connect();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
