"""Hardening suites (issue 9): concurrency and crashes against a real gunicorn, hostile input.

Part 4 of the issue (a locked session refuses every write route, found by walking the URL
map) is tested in tests/deliberation/test_views.py and not repeated here.
"""
