"""The service under a policy: its state and hard rules, the objective tiers, the manager's
rule and a solve's result.
"""
