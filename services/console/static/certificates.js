// The certificate screens' only script: the count of ticked students, shown beside the submit
// button and put into its confirmation ("提交 N 名学生的毕业名单？"), so the dialog states what
// will happen. The texts come translated from the page (data-count-*), with {n} for the count.
(function () {
  "use strict";

  function refresh(form) {
    var ticked = form.querySelectorAll("input[type=checkbox][name=student_id]:checked").length;
    // On the form: htmx reads hx-confirm from the element that triggers the request.
    if (form.dataset.countConfirm) {
      form.setAttribute("hx-confirm", form.dataset.countConfirm.replace("{n}", String(ticked)));
    }
    document.querySelectorAll("[data-count-of='" + form.id + "']").forEach(function (label) {
      label.textContent = label.dataset.countText.replace("{n}", String(ticked));
    });
  }

  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.id && event.target.name === "student_id") refresh(form);
  });
})();
