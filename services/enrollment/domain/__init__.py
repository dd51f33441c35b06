"""Pure rules of student records: no I/O, no ORM, no clock (STYLE.md)."""
