"""The functions the workflow's rules call: each composes data, coding, training and evaluation for one rule.

``nc.pipeline.config`` loads and validates the configuration and expands the study matrix;
``nc.pipeline.steps`` holds one function per rule.
"""
