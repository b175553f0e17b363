"""The data contract: the snapshot, plan and policy models, every value domain, and the
words that say what a field expects (docs/FORMAT.md).
"""
