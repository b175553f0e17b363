"""The allocation meeting: managers' overrides and their re-solves, and the decision log."""
