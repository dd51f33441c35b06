"""Certificates benchmarks: printing (H5b) and public verification."""
