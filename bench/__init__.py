"""Benchmark: a reproducible 1M-alert history generator (``bench.generate``) and the
measurements the issue asks for (``python -m bench.run`` prints one JSON object)."""
