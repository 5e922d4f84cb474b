"""The publisher: validation policy, rendering, catalog build, publishing."""
