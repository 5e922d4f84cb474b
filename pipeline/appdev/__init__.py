"""App developer tools: scaffold, run and test one app."""
