"""Print batches (issue 8, "3. Printing"): a school's or a bureau's certificates rendered in the
background into one file for the printer and one file per student, resumable after a restart."""
