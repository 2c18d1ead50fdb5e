"""Pure models: bargaining engines, games, economics, dynamics."""
