"""``learnway bench kt``: the knowledge-tracing evaluation harness."""
