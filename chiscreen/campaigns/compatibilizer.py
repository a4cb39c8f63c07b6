"""Compatibilizer campaign (placeholder registration; filled in below)."""
