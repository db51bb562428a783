// scoresite self-service enrolment: a new X25519 identity is made and sealed
// with the user's passphrase (scrypt, work factor 18) in a Web Worker
// (assets/worker.js), so the passphrase never leaves the page. The user
// downloads the sealed identity and its public recipient for the coordinator.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var worker = new Worker("assets/worker.js");
  var MIN = 12;
  var form = $("enrol-form");
  var button = form.querySelector("button");

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var email = $("email").value.trim().toLowerCase();
    var pass = $("password").value;
    $("enrol-error").textContent = "";
    if (Array.from(pass).length < MIN) { $("enrol-error").textContent = "Choose a password of at least " + MIN + " characters."; return; }
    if (pass !== $("confirm").value) { $("enrol-error").textContent = "The two passwords differ."; return; }
    button.disabled = true;
    $("enrol-status").textContent = "Creating your key…";
    worker.onmessage = function (m) {
      button.disabled = false;
      $("enrol-status").textContent = "";
      if (!m.data.ok) { $("enrol-error").textContent = "Your sign-in file could not be made: " + m.data.error; return; }
      $("password").value = "";
      $("confirm").value = "";
      var file = JSON.stringify({ version: 1, email: email, recipient: m.data.result.recipient, credential: m.data.result.credential }, null, 2) + "\n";
      var link = $("enrol-file");
      link.href = URL.createObjectURL(new Blob([file], { type: "application/json" }));
      link.download = "scoresite-enrolment-" + email.replace(/[^a-z0-9.@_-]/g, "_") + ".json";
      $("enrol-done").hidden = false;
      link.focus();
    };
    worker.postMessage({ id: 1, op: "enrol", passphrase: pass });
  });
  button.disabled = false;
})();
