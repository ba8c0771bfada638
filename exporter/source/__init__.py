"""Reading a bank: located YAML, validation into the model, auto-tagging and statistics."""
