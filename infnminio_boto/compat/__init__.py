"""Every private API of another library this package relies on, one module per library,
each function naming what it uses and the releases it was read in (docs/design.md)."""
