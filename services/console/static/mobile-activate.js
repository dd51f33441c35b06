/* Activation: the real-name check asks identity to send a code; then the device key is made
   here (Ed25519, non-extractable), kept in IndexedDB, and its public half sent with the code
   and the new password. */
(function () {
  "use strict";
  var M = window.XueJiMobile;
  var problemBox = document.getElementById("activate-problem");
  var identityForm = document.getElementById("step-identity");
  var finishForm = document.getElementById("step-finish");
  var ticket = null;

  if (!window.crypto || !crypto.subtle || !window.indexedDB) {
    document.getElementById("no-webcrypto").hidden = false;
    identityForm.hidden = true;
    return;
  }

  function busy(form, on) {
    form.querySelector("button[type=submit]").disabled = on;
  }

  identityForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!identityForm.reportValidity()) return;
    busy(identityForm, true);
    M.showProblem(problemBox, null);
    M.post("/m/activate/code", {
      name: identityForm.elements.name.value,
      id_number: identityForm.elements.id_number.value,
      phone: identityForm.elements.phone.value
    }).then(function (answer) {
      busy(identityForm, false);
      if (!answer.ok) { M.showProblem(problemBox, answer.body); return; }
      ticket = answer.body.ticket;
      identityForm.hidden = true;
      finishForm.hidden = false;
      finishForm.elements.code.focus();
    }, function () {
      busy(identityForm, false);
      M.showProblem(problemBox, {});
    });
  });

  function newDeviceKey() {
    return crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]).then(function (pair) {
      return crypto.subtle.exportKey("raw", pair.publicKey).then(function (raw) {
        return { privateKey: pair.privateKey, publicKey: M.toBase64(raw), deviceId: crypto.randomUUID() };
      });
    });
  }

  finishForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!finishForm.reportValidity()) return;
    busy(finishForm, true);
    M.showProblem(problemBox, null);
    newDeviceKey().then(function (device) {
      return M.post("/m/activate", {
        ticket: ticket,
        code: finishForm.elements.code.value,
        password: finishForm.elements.password.value,
        device_public_key: device.publicKey
      }).then(function (answer) {
        if (!answer.ok) {
          busy(finishForm, false);
          M.showProblem(problemBox, answer.body);
          return;
        }
        // Kept only once identity has registered it: a failed try leaves the old key alone.
        return M.saveDevice(device).then(function () { window.location.assign(answer.body.next); });
      });
    }).catch(function (error) {
      busy(finishForm, false);
      if (error && error.name === "NotSupportedError") document.getElementById("no-webcrypto").hidden = false;
      else M.showProblem(problemBox, {});
    });
  });
})();
