"""The contract: app manifest and catalog models, canonical encoding, BLAKE3 addressing."""
