"""promptdeck: a terminal workbench for prompt engineering and LLM evals."""

__all__ = ["__version__"]

__version__ = "0.1.0"
