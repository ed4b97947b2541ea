"""Pure types and rules. Imports nothing from the rest of empause."""
