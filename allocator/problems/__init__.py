"""The problems the engine solves for people: the day's allocation, the rebalance, a
recommendation, and the snapshot after a plan.
"""
