"""Two-player games: Kuhn Poker, TicTacToe, Simple Negotiation, and any installed TextArena game."""
