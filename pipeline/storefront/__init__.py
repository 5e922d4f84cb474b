"""The storefront: a static site made from a verified repository."""
