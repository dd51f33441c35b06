"""Signatures on certificates: the sealed QR payload (COSE_Sign1) and the signed PDF (PAdES)."""
