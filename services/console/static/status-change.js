// The 学籍异动 form shows only the fields the chosen kind of change takes (the service ignores
// or refuses the others). A hidden field is disabled too, so a class picked for another kind is
// not sent. Without this script every field shows, as the page is rendered.
function showFieldsOfKind(form) {
  const kind = form.querySelector("select[name=type]").value;
  let anyShown = false;
  for (const block of form.querySelectorAll("[data-kinds]")) {
    const shown = block.dataset.kinds.split(" ").includes(kind);
    block.hidden = !shown;
    for (const control of block.querySelectorAll("select, input")) {
      control.disabled = !shown;
    }
    anyShown = anyShown || shown;
  }
  const group = form.querySelector("fieldset.by-kind");
  if (group) {
    group.hidden = !anyShown;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-fields-by-kind]")) {
    showFieldsOfKind(form);
    form.querySelector("select[name=type]").addEventListener("change", () => showFieldsOfKind(form));
  }
});
