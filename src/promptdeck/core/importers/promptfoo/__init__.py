"""``promptdeck import promptfoo``: a promptfoo config → ordinary promptdeck files.

Prompt files, a suite, its dataset and model aliases, with a report of everything
that could not be carried.
"""
