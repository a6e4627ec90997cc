"""The test kit: product packs, update packages, patch archives and homes in the real
layouts, the fake Carbon server and the demo world; used by the demo, the tests and the bench."""
