"""Figures, maps and reports."""
