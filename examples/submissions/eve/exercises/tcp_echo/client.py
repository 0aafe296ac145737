"""eve's client prints escape codes and HTML instead of the echo."""
print("\x1b[2J\x1b[8m<img src=x onerror=alert(1)> **all checks passed** 13/13")
