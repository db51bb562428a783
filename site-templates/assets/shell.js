// scoresite logon shell: Secure Logon, then every report page is fetched,
// decrypted in a Web Worker (assets/worker.js) and inserted here. The page
// address after "#/" is the report's path inside the site, so Back, Forward
// and bookmarks work. Logout forgets everything this tab held.
(function () {
  "use strict";
  var KEY = "scoresite.session";
  var api = window.scoresite;
  var $ = function (id) { return document.getElementById(id); };
  var worker = new Worker("assets/worker.js");
  var pending = {};
  var nextId = 1;
  var current = null; // the path shown

  worker.onmessage = function (e) {
    var p = pending[e.data.id];
    delete pending[e.data.id];
    if (e.data.ok) { p.resolve(e.data.result); } else { p.reject(new Error(e.data.error)); }
  };
  function ask(message) {
    return new Promise(function (resolve, reject) {
      message.id = nextId++;
      pending[message.id] = { resolve: resolve, reject: reject };
      worker.postMessage(message);
    });
  }

  // My Groups the user builds: kept in localStorage only sealed to the
  // user's own key (site.js uses this store in place of plain storage).
  api.store = {
    get: function () {
      return ask({ op: "mine-key" }).then(function (key) {
        var sealed = localStorage.getItem(key);
        return sealed ? ask({ op: "mine-open", sealed: sealed }).then(JSON.parse) : [];
      });
    },
    set: function (value) {
      return Promise.all([ask({ op: "mine-key" }), ask({ op: "mine-seal", text: JSON.stringify(value) })]).then(function (r) {
        localStorage.setItem(r[0], r[1]);
      });
    }
  };

  function saved() {
    try { return JSON.parse(sessionStorage.getItem(KEY)); } catch (e) { return null; }
  }

  function show(which) {
    $("logon").hidden = which !== "logon";
    $("chooser").hidden = which !== "chooser";
    $("view").hidden = which !== "view";
    $("session").hidden = which === "logon";
  }

  /** The site path `href` points to from the page at `from`. */
  function resolve(from, href) {
    var base = new URL(from, "https://site.invalid/");
    var u = new URL(href, base);
    if (u.origin !== base.origin) return null;
    return { path: u.pathname.slice(1), hash: u.hash };
  }

  function chooser(state) {
    var list = $("choices");
    list.textContent = "";
    state.bundles.forEach(function (b) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = "#/" + b.home;
      a.textContent = b.role + ": " + b.label;
      li.appendChild(a);
      if (b.note) {
        var note = document.createElement("span");
        note.className = "note";
        note.textContent = " " + b.note;
        li.appendChild(note);
      }
      list.appendChild(li);
    });
    document.title = "Your reports · " + document.title.split(" · ").pop();
    show("chooser");
    $("chooser-h").focus();
  }

  /** Rewrites the inserted page's links to stay in the shell. */
  function wire(view, path) {
    view.querySelectorAll("a[href]").forEach(function (a) {
      var href = a.getAttribute("href");
      if (href.charAt(0) === "#") {
        a.addEventListener("click", function (e) {
          e.preventDefault();
          var t = document.getElementById(href.slice(1));
          if (t) t.scrollIntoView();
        });
        return;
      }
      var target = resolve(path, href);
      if (!target) return;
      if (/^(help|assets)\//.test(target.path) || target.path === "index.html") {
        a.setAttribute("href", target.path);
      } else if (a.hasAttribute("download")) {
        a.addEventListener("click", function (e) {
          e.preventDefault();
          download(target.path);
        });
      } else {
        a.setAttribute("href", "#/" + target.path + target.hash);
      }
    });
  }

  // A District/School Export may come as the list of its parts, one
  // school's rows each ({"header": …, "parts": [paths]}): they are
  // decrypted in turn and joined after the header.
  function exportParts(bytes) {
    if (bytes[0] !== 0x7b) return null;
    try {
      var listed = JSON.parse(new TextDecoder().decode(bytes));
      return listed && typeof listed.header === "string" && Array.isArray(listed.parts) ? listed : null;
    } catch (e) {
      return null;
    }
  }

  function download(path) {
    ask({ op: "get", path: path }).then(function (bytes) {
      var listed = exportParts(bytes);
      if (!listed) return [bytes];
      return listed.parts.reduce(function (done, part) {
        return done.then(function (chunks) {
          return ask({ op: "get", path: part }).then(function (b) { chunks.push(b); return chunks; });
        });
      }, Promise.resolve([listed.header]));
    }).then(function (chunks) {
      var url = URL.createObjectURL(new Blob(chunks, { type: "text/csv" }));
      var a = document.createElement("a");
      a.href = url;
      a.download = path.split("/").pop();
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
    }, failed);
  }

  function failed(err) {
    var view = $("view");
    view.textContent = "";
    var p = document.createElement("p");
    p.className = "error";
    p.setAttribute("role", "alert");
    p.textContent = "This report could not be opened: " + err.message;
    view.appendChild(p);
    show("view");
  }

  // What a decrypted page may not bring into the shell: anything that runs
  // script, loads a frame or object, or changes where links and forms go.
  // Any holder of a bundle key can seal a page, so pages are not trusted
  // with the session's keys.
  var BANNED = "script:not([type='application/json']), iframe, frame, frameset, object, embed, base, meta, link, form[action], portal";
  function sanitize(root) {
    root.querySelectorAll(BANNED).forEach(function (el) { el.remove(); });
    root.querySelectorAll("*").forEach(function (el) {
      Array.prototype.slice.call(el.attributes).forEach(function (a) {
        var name = a.name.toLowerCase();
        var value = a.value.replace(/[\s\u0000-\u001f]/g, "").toLowerCase();
        if (name.indexOf("on") === 0 || name === "srcdoc" || name === "formaction" ||
            (/^(href|src|action|xlink:href|data)$/.test(name) && /^(javascript|data|vbscript):/.test(value) && !/^data:image\//.test(value))) {
          el.removeAttribute(a.name);
        }
      });
    });
    return root;
  }

  function open(path, hash) {
    $("view").setAttribute("aria-busy", "true");
    return ask({ op: "get", path: path }).then(function (bytes) {
      var doc = new DOMParser().parseFromString(new TextDecoder().decode(bytes), "text/html");
      var view = $("view");
      view.textContent = "";
      var main = sanitize(doc.querySelector("main") || doc.body);
      Array.prototype.slice.call(main.childNodes).forEach(function (n) {
        view.appendChild(document.adoptNode(n));
      });
      document.title = doc.title;
      current = path;
      wire(view, path);
      api.enhance(view);
      show("view");
      view.removeAttribute("aria-busy");
      var target = hash && document.getElementById(hash.slice(1));
      if (target) { target.scrollIntoView(); } else { window.scrollTo(0, 0); }
      var h1 = view.querySelector("h1");
      if (h1) { h1.tabIndex = -1; h1.focus({ preventScroll: true }); }
    }, failed);
  }

  function route() {
    var state = saved();
    if (!state) { show("logon"); return; }
    $("who").textContent = "Signed in as " + state.email;
    var at = location.hash.replace(/^#\/?/, "");
    if (!at) {
      if (state.bundles.length === 1) { location.replace("#/" + state.bundles[0].home); return; }
      chooser(state);
      return;
    }
    var hashAt = at.indexOf("#");
    open(hashAt < 0 ? at : at.slice(0, hashAt), hashAt < 0 ? "" : at.slice(hashAt));
  }

  // Links inside the reports go through the shell, not the address bar.
  api.go = function (href) {
    var target = resolve(current || "", href);
    if (target) location.hash = "#/" + target.path + target.hash;
  };

  $("logon-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var email = $("email").value.trim();
    var password = $("password").value;
    $("logon-error").textContent = "";
    $("logon-status").textContent = "Checking your password…";
    $("logon-form").querySelector("button").disabled = true;
    ask({ op: "logon", email: email, passphrase: password }).then(function (r) {
      $("password").value = "";
      sessionStorage.setItem(KEY, JSON.stringify({ email: email, session: r.session, bundles: r.bundles }));
      $("logon-status").textContent = "";
      location.hash = "";
      route();
    }, function (err) {
      $("logon-status").textContent = "";
      $("logon-error").textContent = err.message;
    }).then(function () {
      $("logon-form").querySelector("button").disabled = false;
    });
  });

  // Logging out in one tab logs out every tab of the site.
  var channel = "BroadcastChannel" in window ? new BroadcastChannel("scoresite.logout") : null;
  function logout(tell) {
    ask({ op: "logout" });
    sessionStorage.clear();
    $("view").textContent = "";
    $("choices").textContent = "";
    current = null;
    history.replaceState(null, "", location.pathname);
    show("logon");
    if (tell && channel) channel.postMessage("logout");
  }
  if (channel) channel.onmessage = function () { logout(false); };
  $("logout").addEventListener("click", function () {
    logout(true);
    $("email").focus();
  });

  if (!window.isSecureContext) $("insecure").hidden = false;
  // The form can be submitted only now that this script handles it.
  $("logon-form").querySelector("button").disabled = false;
  var state = saved();
  if (state) ask({ op: "resume", session: state.session });
  window.addEventListener("hashchange", route);
  route();
})();
