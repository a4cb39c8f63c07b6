"""Report layer: presentation of results.

- :mod:`~chiscreen.report.html`: a self-contained HTML report (plots embedded as base64, no network,
  no script) for a campaign, a screen or an AL run folder
"""
