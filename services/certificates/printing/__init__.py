"""Printing certificates (seed 004 art. 17–19): what a certificate face says, its QR symbol, and the
Typst templates that turn faces into PDFs for the printer, per student, and the school's graduate
list."""
