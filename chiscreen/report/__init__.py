"""Report layer: presentation of results, shared by the CLI, jobs/ and the HTML report.

- :mod:`~chiscreen.report.text`: plain-text summaries (a screen's result, the demo's highlights).
- :mod:`~chiscreen.report.html`: a self-contained HTML report (plots embedded as base64, no network,
  no script) for a campaign, a screen or an AL run folder

Layer ``report`` (above campaigns, below cli): it may read results of any layer; nothing below
imports it.
"""
