"""Differentiable operations (``Function`` subclasses), one module per op family."""
