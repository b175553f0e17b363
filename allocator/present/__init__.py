"""Plans and figures for people: the analysis the explain command, the page and the report
show, the terminal's tables and the HTML report.
"""
