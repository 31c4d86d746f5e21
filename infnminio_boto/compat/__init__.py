"""Every private API of another library this package relies on: one module per library.

Each function names what it reads or writes and the releases it was read in; the rest of
the package calls these functions and never reaches into another library itself (see
docs/design.md, "Other libraries' private parts").
"""
