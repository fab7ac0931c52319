"""nc: training LLMs over neurally compressed text."""
