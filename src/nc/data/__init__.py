"""Corpus readers, example construction and on-disk token datasets."""
