"""Imports from the Standard Safeguarding Dataset and council CSV reports (no solver)."""
