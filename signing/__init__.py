"""The trust layer: TUF metadata, keys, threshold signatures and the client state machine."""
