/* Check-in: camera (or the file input when there is none) and position; the round's nonce from
   the server; the payload signed with the device key kept in IndexedDB since activation; then
   the result, asked again until the face check has decided it, and a retry when allowed.

   The browser reports WGS-84 (the W3C Geolocation API), so the payload says so; the service
   converts what Chinese map SDKs report (GCJ-02) itself. A browser cannot tell an emulator,
   a mock location or a rooted phone: those signals are sent as false, as the web allows. */
(function () {
  "use strict";
  var M = window.XueJiMobile;
  var section = document.getElementById("checkin");
  if (!section) return;
  var roundId = section.getAttribute("data-round");
  var video = document.getElementById("video");
  var fileInput = document.getElementById("selfie-file");
  var submit = document.getElementById("submit");
  var positionLine = document.getElementById("position");
  var problemBox = document.getElementById("checkin-problem");
  var resultBox = document.getElementById("result");
  var device = null;
  var position = null;
  var usingCamera = false;
  var sending = false;

  function cameraReady() {
    return Boolean(video.srcObject && video.srcObject.active && video.videoWidth);
  }

  function selfieReady() {
    return usingCamera ? cameraReady() : Boolean(fileInput.files && fileInput.files.length);
  }

  /* WEB.md: never enable on a stopped stream (a retry once posted an empty frame). */
  function refresh() {
    submit.disabled = sending || !device || !position || !selfieReady();
  }

  function startCamera() {
    return M.startCamera(video).then(function (stream) {
      usingCamera = true;
      document.getElementById("camera").hidden = false;
      document.getElementById("fallback").hidden = true;
      stream.getTracks().forEach(function (track) { track.addEventListener("ended", refresh); });
      refresh();
    }, function () {
      usingCamera = false;
      document.getElementById("fallback").hidden = false;
      refresh();
    });
  }

  function watchPosition() {
    if (!navigator.geolocation) {
      positionLine.textContent = M.text("msg-no-position");
      return;
    }
    navigator.geolocation.watchPosition(function (found) {
      position = found.coords;
      positionLine.textContent = M.text("msg-position").replace("{m}", String(Math.round(position.accuracy)));
      refresh();
    }, function () {
      position = null;
      positionLine.textContent = M.text("msg-no-position");
      refresh();
    }, { enableHighAccuracy: true, maximumAge: 0, timeout: 30000 });
  }

  /* The position at the moment of sending (a watch may lag behind a walk back onto campus). */
  function freshPosition() {
    return new Promise(function (resolve) {
      navigator.geolocation.getCurrentPosition(function (found) {
        position = found.coords;
        resolve(position);
      }, function () { resolve(position); }, { enableHighAccuracy: true, maximumAge: 0, timeout: 15000 });
    });
  }

  function selfie() {
    return usingCamera ? M.frameOf(video, true) : M.fileAsJpeg(fileInput.files[0], false);
  }

  function signedForm(photo, nonce) {
    return photo.arrayBuffer().then(function (bytes) {
      return crypto.subtle.digest("SHA-256", bytes);
    }).then(function (digest) {
      var payload = JSON.stringify({
        round_id: roundId,
        nonce: nonce,
        latitude: position.latitude,
        longitude: position.longitude,
        accuracy_m: Math.max(position.accuracy, 1),
        crs: "WGS-84",
        device_id: device.deviceId,
        emulator: false,
        mock_location: false,
        rooted: false,
        selfie_sha256: M.toHex(digest),
        captured_at: new Date().toISOString()
      });
      var bytes = new TextEncoder().encode(payload);
      return crypto.subtle.sign({ name: "Ed25519" }, device.privateKey, bytes).then(function (signature) {
        var form = new FormData();
        form.append("payload", payload);
        form.append("signature", M.toBase64(signature));
        form.append("selfie", photo, "selfie.jpg");
        return form;
      });
    });
  }

  function showResult(checkInId) {
    return fetch("/m/checkin/result/" + encodeURIComponent(checkInId), { credentials: "same-origin" })
      .then(function (response) {
        return response.text().then(function (html) {
          // The console's own fragment, escaped by its templates.
          resultBox.innerHTML = html;
          if (response.ok && response.headers.get("X-Check-In-State") !== "decided") {
            return new Promise(function (resolve) { setTimeout(resolve, 1000); }).then(function () {
              return showResult(checkInId);
            });
          }
          var retry = document.getElementById("retry");
          if (retry) retry.addEventListener("click", again);
        });
      });
  }

  function finished() {
    sending = false;
    refresh();
  }

  function again() {
    resultBox.textContent = "";
    M.showProblem(problemBox, null);
    submit.hidden = false;
    if (usingCamera) startCamera(); else { fileInput.value = ""; refresh(); }
  }

  submit.addEventListener("click", function () {
    if (submit.disabled) return;
    sending = true;
    refresh();
    M.showProblem(problemBox, null);
    resultBox.textContent = M.text("msg-working");
    var photo;
    freshPosition().then(selfie).then(function (blob) {
      photo = blob;
      return M.post("/m/checkin/challenge", { round_id: roundId });
    }).then(function (answer) {
      if (!answer.ok) throw answer.body;
      return signedForm(photo, answer.body.nonce);
    }).then(function (form) {
      return M.post("/m/checkin", form);
    }).then(function (answer) {
      if (!answer.ok) throw answer.body;
      if (usingCamera) M.stopCamera(video);
      submit.hidden = true;
      return showResult(answer.body.check_in_id);
    }).then(finished, function (problem) {
      resultBox.textContent = "";
      M.showProblem(problemBox, problem && problem.title ? problem : {});
      finished();
    });
  });

  fileInput.addEventListener("change", refresh);
  video.addEventListener("loadedmetadata", refresh);
  video.addEventListener("playing", refresh);

  M.loadDevice().then(function (found) {
    device = found;
    if (!device) M.showProblem(problemBox, { title: M.text("msg-no-key") });
    refresh();
  }, function () {
    M.showProblem(problemBox, { title: M.text("msg-no-key") });
  });
  startCamera();
  watchPosition();
})();
