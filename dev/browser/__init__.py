"""A real browser for the documentation site: headless Chromium from the system packages,
driven through its DevTools protocol (``chromium.py``), and the check that no page scrolls
sideways (``site_check.py``, ``nox -s site-check``)."""
