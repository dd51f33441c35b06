"""``make bench-enrollment``: registration throughput and latency at province scale."""
