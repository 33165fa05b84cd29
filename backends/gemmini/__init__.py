"""The Gemmini backend: ISA encoding, the Program format, C emission, the vendor-library baseline."""
