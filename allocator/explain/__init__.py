"""Reading a plan from the plan alone: each hard rule judged (check), and why each child
went where they did, or went nowhere (reasons).
"""
