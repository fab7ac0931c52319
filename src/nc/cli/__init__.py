"""The `nc` console script (compress, decompress): nc outside the workflow."""
