"""Publishing a signed repository to an origin (DESIGN §6): layout, order, origins."""
