"""One package per chat platform; platform SDK types never leave their package."""
