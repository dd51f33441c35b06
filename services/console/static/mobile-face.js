/* Face capture: a frame from the front camera, or a photo chosen with the file input when the
   camera is unavailable (in-app browsers, refused permission). A refusal shows the service's
   quality reason. */
(function () {
  "use strict";
  var M = window.XueJiMobile;
  var video = document.getElementById("video");
  var shoot = document.getElementById("shoot");
  var fileInput = document.getElementById("photo-file");
  var problemBox = document.getElementById("face-problem");
  var okBox = document.getElementById("face-ok");

  function send(blob) {
    M.showProblem(problemBox, null);
    okBox.textContent = M.text("msg-working");
    var form = new FormData();
    form.append("photo", blob, "face.jpg");
    return M.post("/m/face", form).then(function (answer) {
      okBox.textContent = "";
      if (!answer.ok) { M.showProblem(problemBox, answer.body); return; }
      okBox.textContent = M.text("msg-done") + " ";
      var next = document.createElement("a");
      next.href = answer.body.next;
      next.id = "go-checkin";
      next.textContent = M.text("go-checkin-label");
      okBox.appendChild(next);
    }, function () {
      okBox.textContent = "";
      M.showProblem(problemBox, {});
    });
  }

  function ready() {
    return Boolean(video.srcObject && video.srcObject.active && video.videoWidth);
  }

  video.addEventListener("loadedmetadata", function () { shoot.disabled = !ready(); });
  shoot.addEventListener("click", function () {
    if (!ready()) return;
    shoot.disabled = true;
    M.frameOf(video, false).then(send).then(function () { shoot.disabled = !ready(); });
  });
  fileInput.addEventListener("change", function () {
    var file = fileInput.files && fileInput.files[0];
    if (!file) return;
    M.fileAsJpeg(file, false).then(send, function () { M.showProblem(problemBox, {}); });
  });

  M.startCamera(video).then(function () {
    document.getElementById("camera").hidden = false;
    shoot.disabled = !ready();
  }, function () {
    document.getElementById("fallback").hidden = false;
  });
})();
