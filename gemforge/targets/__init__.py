"""Built-in target descriptions (TOML), loaded by gemforge.target."""
