"""Registration by Excel (学籍导入): the template, reading an upload, the background worker."""
