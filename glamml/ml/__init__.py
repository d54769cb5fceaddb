"""The ML core: plain Python and scikit-learn/SciPy, no Django. See docs/langid.md."""
