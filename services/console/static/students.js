// The list's search form leaves its empty fields out of the URL, so a bookmarked or shared
// address names only the filters really chosen. The form data is edited, not the form: Back
// (the browser's page cache) shows the fields as the user left them.
document.addEventListener("formdata", (event) => {
  if (!(event.target instanceof HTMLFormElement) || !event.target.matches("form[data-drop-empty]")) {
    return;
  }
  for (const [key, value] of Array.from(event.formData.entries())) {
    if (value === "") {
      event.formData.delete(key);
    }
  }
});
