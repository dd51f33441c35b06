// 审核: the batch confirmation states how many items are checked (hx-confirm cannot count), a
// cancelled confirmation sends nothing; "全选本页" checks every item of the page.
(function () {
  "use strict";

  function checkedBoxes() {
    return document.querySelectorAll('input[type="checkbox"][form="batch"]:checked');
  }

  document.addEventListener("htmx:confirm", function (event) {
    var form = event.target;
    if (!form || form.id !== "batch") return;
    event.preventDefault();
    var count = checkedBoxes().length;
    if (count === 0) {
      window.alert(form.dataset.none);
      return;
    }
    if (window.confirm(form.dataset.confirm.replace("__N__", String(count)))) {
      event.detail.issueRequest(true);
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("#check-all");
    if (!button) return;
    var boxes = document.querySelectorAll('input[type="checkbox"][form="batch"]');
    var all = Array.prototype.every.call(boxes, function (box) { return box.checked; });
    boxes.forEach(function (box) { box.checked = !all; });
  });
})();
