/* Shared by the phone page's scripts: JSON posts to the console, problems shown in place, the
   device key kept in IndexedDB, and a camera frame or chosen photo as a JPEG. */
(function () {
  "use strict";

  var DB_NAME = "xueji-device";
  var STORE = "keys";
  var DEVICE = "device";

  function text(id) {
    var template = document.getElementById(id);
    return template ? template.content.textContent.trim() : "";
  }

  /* A service's problem ({title, errors: [{field, reason}]}) written into a box by text only. */
  function showProblem(box, problem) {
    box.textContent = "";
    if (!problem) return;
    var alert = document.createElement("div");
    alert.className = "alert alert-error";
    var title = document.createElement("strong");
    title.textContent = problem.title || text("msg-failed");
    alert.appendChild(title);
    var errors = problem.errors || [];
    if (errors.length) {
      var list = document.createElement("ul");
      list.className = "field-errors";
      errors.forEach(function (error) {
        var item = document.createElement("li");
        item.className = "problem-reason";
        item.textContent = error.reason;
        list.appendChild(item);
      });
      alert.appendChild(list);
    } else if (problem.detail) {
      var detail = document.createElement("p");
      detail.textContent = problem.detail;
      alert.appendChild(detail);
    }
    box.appendChild(alert);
  }

  /* POST to a console route; resolves {ok, status, body}. */
  function post(url, body) {
    var init = { method: "POST", credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body instanceof FormData) {
      init.body = body;
    } else {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      // The session ran out: the console sent the request on to the sign-in page.
      if (response.redirected && response.url.indexOf("/m/signin") !== -1) {
        window.location.assign("/m/signin?next=" + encodeURIComponent(window.location.pathname + window.location.search));
      }
      return response.json().then(
        function (json) { return { ok: response.ok, status: response.status, body: json }; },
        function () { return { ok: false, status: response.status, body: { title: text("msg-failed") } }; }
      );
    });
  }

  function openStore() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function saveDevice(record) {
    return openStore().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, "readwrite");
        tx.objectStore(STORE).put(record, DEVICE);
        tx.oncomplete = function () { resolve(record); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }

  function loadDevice() {
    return openStore().then(function (db) {
      return new Promise(function (resolve, reject) {
        var request = db.transaction(STORE, "readonly").objectStore(STORE).get(DEVICE);
        request.onsuccess = function () { resolve(request.result || null); };
        request.onerror = function () { reject(request.error); };
      });
    });
  }

  function toBase64(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary);
  }

  function toHex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  /* A JPEG of a video frame or an image, at most `longest` pixels on its longer side. `stamp`
     writes the capture time in a corner, as camera apps do: two check-ins never send the same
     bytes even when the picture does not change (the service refuses a replayed selfie). */
  function jpeg(source, width, height, stamp) {
    var longest = 960;
    var scale = Math.min(1, longest / Math.max(width, height));
    var canvas = document.createElement("canvas");
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    var context = canvas.getContext("2d");
    context.drawImage(source, 0, 0, canvas.width, canvas.height);
    if (stamp) {
      context.font = "12px sans-serif";
      context.fillStyle = "rgba(255,255,255,0.8)";
      context.fillText(new Date().toISOString(), 4, canvas.height - 4);
    }
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", 0.9); });
  }

  function frameOf(video, stamp) {
    return jpeg(video, video.videoWidth, video.videoHeight, stamp);
  }

  function fileAsJpeg(file, stamp) {
    return createImageBitmap(file).then(function (bitmap) {
      return jpeg(bitmap, bitmap.width, bitmap.height, stamp);
    });
  }

  /* The front camera in the video element; rejects when there is none or it is refused. */
  function startCamera(video) {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return Promise.reject(new Error("no camera API"));
    }
    return navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" }, audio: false })
      .then(function (stream) {
        video.srcObject = stream;
        return video.play().then(function () { return stream; }, function () { return stream; });
      });
  }

  function stopCamera(video) {
    var stream = video.srcObject;
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
  }

  window.XueJiMobile = {
    text: text,
    showProblem: showProblem,
    post: post,
    saveDevice: saveDevice,
    loadDevice: loadDevice,
    toBase64: toBase64,
    toHex: toHex,
    frameOf: frameOf,
    fileAsJpeg: fileAsJpeg,
    startCamera: startCamera,
    stopCamera: stopCamera
  };
})();
