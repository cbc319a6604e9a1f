"""Benchmarks of the development proxy, as ratios against a bare Flask app in the same run.

The machines are noisy, so only ratios measured side by side mean anything (the
design's "Performance targets"). Run with ``make bench``.
"""
