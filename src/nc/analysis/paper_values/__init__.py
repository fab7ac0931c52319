"""The paper's published numbers (one CSV per table, plus ``scalars.csv``), shipped as package data."""
