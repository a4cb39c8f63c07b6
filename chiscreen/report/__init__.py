"""Presentation: what chiscreen shows people, shared by the CLI, jobs/ and the HTML report.

- :mod:`chiscreen.report.text`: plain-text summaries (a screen's result, the demo's highlights).

Layer ``report`` (above campaigns, below cli): it may read results of any layer; nothing below
imports it.
"""
