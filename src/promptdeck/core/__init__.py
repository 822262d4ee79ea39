"""The engine: everything promptdeck does, with no user interface.

Nothing in this package imports textual, click, rich or the front ends, and
nothing heavy (litellm, deepeval, llama_cpp) is imported at import time.
"""
